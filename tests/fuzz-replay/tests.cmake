# Fuzz corpora replayed as ordinary ctest tests (fuzz-replay/<name>), in every build.
# Add a harness with one line: sb_fuzz_replay(<name> <harness.c> <corpus dir> <libs...>).
set(SB_FUZZ_DIR ${CMAKE_SOURCE_DIR}/fuzz)

function(sb_fuzz_replay name harness corpus)
  set(target fuzz_replay_${name})
  add_executable(${target} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/replay.c ${harness})
  target_link_libraries(${target} PRIVATE ${ARGN})
  add_test(NAME fuzz-replay/${name} COMMAND ${target} ${corpus})
  set_tests_properties(fuzz-replay/${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()

sb_fuzz_replay(sip_msg ${SB_FUZZ_DIR}/fuzz_sip_msg.c ${SB_FUZZ_DIR}/corpus/sip_msg sb_sip)
sb_fuzz_replay(sip_uri ${SB_FUZZ_DIR}/fuzz_sip_uri.c ${SB_FUZZ_DIR}/corpus/sip_uri sb_sip)
sb_fuzz_replay(sdp ${SB_FUZZ_DIR}/fuzz_sdp.c ${SB_FUZZ_DIR}/corpus/sdp sb_sdp sb_base)

# Harnesses of the media plane: every fuzz/fuzz_<name>.c of these lists, corpus fuzz/corpus/<name>.
foreach(n rtp rtcp dtmf)
  if(EXISTS ${SB_FUZZ_DIR}/fuzz_${n}.c)
    sb_fuzz_replay(${n} ${SB_FUZZ_DIR}/fuzz_${n}.c ${SB_FUZZ_DIR}/corpus/${n} sb_room sb_media
                   sb_rtp sb_base)
  endif()
endforeach()

# The control plane: LiveKit SIP request JSON (first byte picks the request type).
sb_fuzz_replay(api_sip_json ${SB_FUZZ_DIR}/fuzz_api_sip_json.c ${SB_FUZZ_DIR}/corpus/api_sip_json
               sb_api)
sb_fuzz_replay(stream_twilio ${SB_FUZZ_DIR}/fuzz_stream_twilio.c ${SB_FUZZ_DIR}/corpus/stream_twilio sb_stream)
sb_fuzz_replay(stream_native ${SB_FUZZ_DIR}/fuzz_stream_native.c ${SB_FUZZ_DIR}/corpus/stream_native sb_stream)
