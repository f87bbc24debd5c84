target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/weights.cpp
  ${CMAKE_CURRENT_LIST_DIR}/arch/llama.cpp
  ${CMAKE_CURRENT_LIST_DIR}/arch/qwen.cpp
  ${CMAKE_CURRENT_LIST_DIR}/arch/gemma3.cpp
  ${CMAKE_CURRENT_LIST_DIR}/arch/phi3.cpp)
