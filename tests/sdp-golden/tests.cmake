# Golden SDP offer -> answer cases (tests/sdp-golden/cases/*.test), one ctest test per case.
# Regenerate expected sections after an intended change:
#   SB_GOLDEN_UPDATE=1 <build>/tests/sdp_golden tests/sdp-golden/cases/*.test   (then review the diff)
add_executable(sdp_golden ${CMAKE_CURRENT_LIST_DIR}/golden.c)
target_link_libraries(sdp_golden PRIVATE sb_sdp)
file(GLOB sdp_golden_cases CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cases/*.test)
foreach(c ${sdp_golden_cases})
  get_filename_component(n ${c} NAME_WE)
  add_test(NAME sdp-golden/${n} COMMAND sdp_golden ${c})
  set_tests_properties(sdp-golden/${n} PROPERTIES LABELS "unit;sdp-golden" TIMEOUT 60)
endforeach()
