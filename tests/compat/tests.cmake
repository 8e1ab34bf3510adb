# API compatibility: the real npm livekit-server-sdk (pinned by package-lock.json, installed
# by run.sh with npm ci) against a running switchboard. One ctest test per *.mjs script, label
# "compat". Registered even without node or npm, so that the test fails instead of vanishing.
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_compat_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_compat_tests "${sb_compat_tests}")
foreach(s ${sb_compat_tests})
  get_filename_component(t ${s} NAME_WE)
  add_test(NAME compat/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${s})
  set_tests_properties(compat/${t} PROPERTIES LABELS compat TIMEOUT 300)
endforeach()
