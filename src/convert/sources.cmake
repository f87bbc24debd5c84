target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hf_arch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metadata.cpp
  ${CMAKE_CURRENT_LIST_DIR}/permute.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rope_freqs.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bnb4_weight.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hf_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/out_type.cpp
  ${CMAKE_CURRENT_LIST_DIR}/encode.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipeline.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lora.cpp
  ${CMAKE_CURRENT_LIST_DIR}/export_gguf_base.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lora_gguf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api.cpp)
