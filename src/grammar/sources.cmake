# Grammar module (docs/grammar.md): GBNF parser, byte automaton, token masks, JSON Schema -> GBNF.
target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/gbnf_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gbnf_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/automaton.cpp
  ${CMAKE_CURRENT_LIST_DIR}/token_vocabulary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/token_trie.cpp
  ${CMAKE_CURRENT_LIST_DIR}/matcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/schema_pattern.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema.cpp)
