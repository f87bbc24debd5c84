# Random-weight bench models (include/llcuda/bench_model.h, docs/bench.md).
target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/shapes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/random_fill.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vocabulary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/plan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/write_model.cpp)
