# Interop: baresip (Debian package baresip-core) calling switchboard and called by it,
# headless on loopback. See run-baresip.sh.
find_program(SB_BARESIP baresip)
if(NOT SB_BARESIP)
  message(WARNING "baresip not found (apt-get install baresip-core): interop tests not registered")
  return()
endif()
foreach(t baresip-calls-switchboard switchboard-calls-baresip baresip-plays-into-room)
  # tone_peer (tests/media) is the other caller of baresip-plays-into-room
  add_test(NAME interop/${t}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-baresip.sh $<TARGET_FILE:switchboard> ${t}
                   $<TARGET_FILE:tone_peer>)
  set_tests_properties(interop/${t} PROPERTIES LABELS interop TIMEOUT 60)
endforeach()
