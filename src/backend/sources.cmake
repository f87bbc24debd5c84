target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/batch_check.cpp)
