target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/paged_kv_cache.cpp)
