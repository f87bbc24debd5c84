target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/kv_blocks.cpp)
