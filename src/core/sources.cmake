target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/error.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mapped_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/atomic_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ggml_type.cpp
  ${CMAKE_CURRENT_LIST_DIR}/thread_pool.cpp)
if(NOT LLCUDA_HAVE_CUDA)
  target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/devices_cpu_only.cpp)
endif()
