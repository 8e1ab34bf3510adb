# The web console end to end (run.sh): curl cases, and a browser case where playwright-core
# (pinned by package-lock.json, installed by run.sh with npm ci) drives Debian's chromium
# headless against a SIPp call. One ctest test per case, label "web". Registered even without
# chromium, node or sipp, so that the test fails instead of vanishing.
execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh --list
                OUTPUT_VARIABLE sb_web_tests OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" sb_web_tests "${sb_web_tests}")
foreach(t ${sb_web_tests})
  add_test(NAME web/${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:switchboard> ${t}
                   $<TARGET_FILE:tone_peer>)
  set_tests_properties(web/${t} PROPERTIES LABELS web TIMEOUT 180
                       ENVIRONMENT SB_WEB_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/web/artifacts)
endforeach()
