# switchboard dialing switchboard: every case of tests/e2e/run.sh is one ctest test.
foreach(c basic-udp basic-tcp basic-ipv6 tls digest hold-both-ways info-dtmf refer-declined shutdown-bye
       cancel-ringing sipp-cancel-ringing register
       refer-notify-200 refer-notify-486 digest-invite-and-bye sipp-no-ack
       sipp-update-legacy-hold sipp-digest-client config-file dial-say register-trunk)
  add_test(NAME e2e/${c} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${c})
  set_tests_properties(e2e/${c} PROPERTIES LABELS e2e TIMEOUT 60)
endforeach()
