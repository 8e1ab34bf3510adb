# HTTP API end to end: curl against a running switchboard. One ctest test per case of run.sh,
# label "api".
find_program(SB_CURL curl)
if(NOT SB_CURL)
  message(WARNING "curl not found (apt-get install curl): API end-to-end tests not registered")
  return()
endif()
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_api_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_api_tests "${sb_api_tests}")
foreach(t ${sb_api_tests})
  add_test(NAME api/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${t})
  set_tests_properties(api/${t} PROPERTIES LABELS api TIMEOUT 60)
endforeach()

# livekit.RoomService against real SIP calls (SIPp): one ctest test per case of room_e2e.sh.
find_program(SB_SIPP sipp)
if(SB_SIPP)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/room_e2e.sh --list
                  OUTPUT_VARIABLE sb_room_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" sb_room_tests "${sb_room_tests}")
  foreach(t ${sb_room_tests})
    add_test(NAME api/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/room_e2e.sh $<TARGET_FILE:switchboard> ${t})
    set_tests_properties(api/${t} PROPERTIES LABELS api TIMEOUT 90)
  endforeach()
else()
  message(WARNING "sipp not found (apt-get install sip-tester): RoomService end-to-end tests not registered")
endif()

# Webhooks to a node HTTP receiver from real SIP calls (SIPp): one ctest test per case of
# webhook_e2e.sh.
find_program(SB_NODE node)
if(SB_SIPP AND SB_NODE)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/webhook_e2e.sh --list
                  OUTPUT_VARIABLE sb_hook_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" sb_hook_tests "${sb_hook_tests}")
  foreach(t ${sb_hook_tests})
    add_test(NAME api/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/webhook_e2e.sh $<TARGET_FILE:switchboard> ${t})
    set_tests_properties(api/${t} PROPERTIES LABELS api TIMEOUT 60)
  endforeach()
else()
  message(WARNING "sipp or node not found: webhook end-to-end tests not registered")
endif()

# switchboard.Calls (hold, resume, DTMF, call stats) against a real SIP call (SIPp): one ctest
# test per case of calls_e2e.sh.
if(SB_SIPP)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/calls_e2e.sh --list
                  OUTPUT_VARIABLE sb_calls_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" sb_calls_tests "${sb_calls_tests}")
  foreach(t ${sb_calls_tests})
    add_test(NAME api/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/calls_e2e.sh $<TARGET_FILE:switchboard> ${t})
    set_tests_properties(api/${t} PROPERTIES LABELS api TIMEOUT 90)
  endforeach()
endif()

# GET /metrics (Prometheus) against a real SIP call (SIPp) and a dead webhook URL: one ctest
# test per case of metrics_e2e.sh.
if(SB_SIPP)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/metrics_e2e.sh --list
                  OUTPUT_VARIABLE sb_metrics_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" sb_metrics_tests "${sb_metrics_tests}")
  foreach(t ${sb_metrics_tests})
    add_test(NAME api/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/metrics_e2e.sh $<TARGET_FILE:switchboard> ${t})
    set_tests_properties(api/${t} PROPERTIES LABELS api TIMEOUT 90)
  endforeach()
endif()
