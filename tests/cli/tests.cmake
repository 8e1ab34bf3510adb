# The client commands (`switchboard sip ...`, `switchboard room ...`) against a running
# switchboard: one ctest test per case of run.sh, label "cli". The call case needs sipp.
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_cli_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_cli_tests "${sb_cli_tests}")
find_program(SB_SIPP sipp)
foreach(t ${sb_cli_tests})
  if(t STREQUAL "cli-room-call" AND NOT SB_SIPP)
    message(WARNING "sipp not found (apt-get install sip-tester): cli/${t} not registered")
    continue()
  endif()
  add_test(NAME cli/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${t})
  set_tests_properties(cli/${t} PROPERTIES LABELS cli TIMEOUT 90)
endforeach()
