target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/end_of_generation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/builtin_templates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/inference_engine.cpp)
