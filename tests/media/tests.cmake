# Media-plane flows: SIPp signalling with tone_peer (or SIPp's pcaps) as the media, against a
# running switchboard. One ctest test per case of run.sh, label "media".
find_program(SB_SIPP_MEDIA sipp)
if(NOT SB_SIPP_MEDIA)
  message(WARNING "sipp not found (apt-get install sip-tester): media flow tests not registered")
  return()
endif()
add_executable(tone_peer ${CMAKE_CURRENT_LIST_DIR}/tone_peer.c)
target_link_libraries(tone_peer PRIVATE sb_media m)
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_media_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_media_tests "${sb_media_tests}")
foreach(t ${sb_media_tests})
  add_test(NAME media/${t}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${t}
                   $<TARGET_FILE:tone_peer>)
  set_tests_properties(media/${t} PROPERTIES LABELS media TIMEOUT 90)
endforeach()
