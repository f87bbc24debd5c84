target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler_stages.cpp
  ${CMAKE_CURRENT_LIST_DIR}/end_of_generation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/builtin_templates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backend_factory.cpp
  ${CMAKE_CURRENT_LIST_DIR}/generation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/inference_engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bench_parallel.cpp
  ${CMAKE_CURRENT_LIST_DIR}/perplexity.cpp)
