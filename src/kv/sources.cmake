target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/kv_blocks.cpp ${CMAKE_CURRENT_LIST_DIR}/prefix_cache.cpp
                              ${CMAKE_CURRENT_LIST_DIR}/kv_pool_size.cpp)
