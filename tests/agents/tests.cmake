# Agent protocols end to end: switchboard serve, SIPp callers (tone_peer from tests/media for
# the audio; defined by tests/media/tests.cmake), node + npm ws as the agent. One ctest test per case of run.sh, label "agents".
find_program(SB_SIPP_AGENTS sipp)
find_program(SB_NODE_AGENTS node)
if(NOT SB_SIPP_AGENTS OR NOT SB_NODE_AGENTS)
  message(WARNING "sipp or node missing: agent protocol tests not registered")
  return()
endif()
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_agents_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_agents_tests "${sb_agents_tests}")
foreach(t ${sb_agents_tests})
  add_test(NAME agents/${t}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${t}
                   $<TARGET_FILE:tone_peer>)
  set_tests_properties(agents/${t} PROPERTIES LABELS agents TIMEOUT 120)
endforeach()
