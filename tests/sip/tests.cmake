# SIP flow tests: SIPp (Debian package sip-tester) against a running switchboard.
# One ctest test per flow, label "sip"; run-scenario.sh holds the flows, scenarios/ the SIPp XML.
find_program(SB_SIPP sipp)
if(NOT SB_SIPP)
  message(WARNING "sipp not found (apt-get install sip-tester): SIP flow tests not registered")
  return()
endif()

# Sends a tone as RTP to switchboard's port from the SDP answer and checks it comes back.
add_executable(sip_rtp_probe ${CMAKE_CURRENT_LIST_DIR}/rtp_probe.c)
target_link_libraries(sip_rtp_probe PRIVATE sb_media m)
# Sends raw (malformed) SIP messages and checks the answers.
add_executable(sip_send ${CMAKE_CURRENT_LIST_DIR}/sip_send.c)

execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-scenario.sh --list
                OUTPUT_VARIABLE sb_sip_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_sip_tests "${sb_sip_tests}")
foreach(t ${sb_sip_tests})
  add_test(NAME sip/${t}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-scenario.sh $<TARGET_FILE:switchboard> ${t}
                   $<TARGET_FILE:sip_rtp_probe> $<TARGET_FILE:sip_send>)
  # The runner bounds every step (about 60 s at worst); the margin lets it clean up.
  # 77 = skipped (reject-non-loopback on a host with no address but loopback).
  set_tests_properties(sip/${t} PROPERTIES LABELS sip TIMEOUT 90 SKIP_RETURN_CODE 77)
endforeach()
