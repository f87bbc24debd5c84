# Model names and hub downloads (include/llcuda/hub.h, docs/model-cache.md). Downloading needs
# libcurl (cmake/Dependencies.cmake); without it download_unavailable.cpp says so when asked.
target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/well_known.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hub_name.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hub_url.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sha256.cpp)
if(TARGET PkgConfig::CURL)
  target_sources(llcuda PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/http_request.cpp
    ${CMAKE_CURRENT_LIST_DIR}/partial_file.cpp
    ${CMAKE_CURRENT_LIST_DIR}/download.cpp)
  target_link_libraries(llcuda PRIVATE PkgConfig::CURL)
else()
  target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/download_unavailable.cpp)
endif()
