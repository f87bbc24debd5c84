# Tokenizer module (docs/tokenizer.md). ICU provides Unicode normalization (NFC for Qwen).
pkg_check_modules(LLCUDA_ICU REQUIRED IMPORTED_TARGET icu-uc)
target_link_libraries(llcuda PRIVATE PkgConfig::LLCUDA_ICU)
target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/utf8.cpp
  ${CMAKE_CURRENT_LIST_DIR}/byte_level.cpp
  ${CMAKE_CURRENT_LIST_DIR}/normalizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/presets.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/added_tokens.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_decoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vocabulary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hf_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_source.cpp)
