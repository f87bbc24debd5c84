target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_backend.cpp)
