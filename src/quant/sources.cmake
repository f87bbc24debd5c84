target_sources(llcuda PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/api.cpp
  ${CMAKE_CURRENT_LIST_DIR}/traits.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dequant_simple.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dequant_kquants.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dequant_iquants.cpp
  ${CMAKE_CURRENT_LIST_DIR}/iq_grids_2bit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/iq_grids_1bit_3bit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize_simple.cpp
  ${CMAKE_CURRENT_LIST_DIR}/legacy_imatrix.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kquant_search.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize_kquants.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize_iq4.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bnb4.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mixes.cpp)
