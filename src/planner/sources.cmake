target_sources(llcuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/planner.cpp)
