# Parser benchmark: switchboard's sip_msg_parse against osip2 and sofia-sip on one 1.2 kB INVITE.
# Built only when both libraries are found (Debian: libosip2-dev, libsofia-sip-ua-dev).
# The parser sources are compiled into the benchmark at -O2 so the figure does not depend on the
# tree's build type (a Debug/ASan build of sb_sip would measure the sanitizer).
pkg_check_modules(OSIP2 IMPORTED_TARGET libosip2)
pkg_check_modules(SOFIA IMPORTED_TARGET sofia-sip-ua)
if(OSIP2_FOUND AND SOFIA_FOUND)
  add_executable(bench_parser
    ${CMAKE_CURRENT_LIST_DIR}/parser.c
    ${CMAKE_CURRENT_LIST_DIR}/parser_others.c
    ${CMAKE_SOURCE_DIR}/src/sip/msg.c
    ${CMAKE_SOURCE_DIR}/src/sip/uri.c
    ${CMAKE_SOURCE_DIR}/src/sip/hdr.c
    ${CMAKE_SOURCE_DIR}/src/base/slice.c
    ${CMAKE_SOURCE_DIR}/src/base/buf.c
    ${CMAKE_SOURCE_DIR}/src/base/err.c)
  target_include_directories(bench_parser PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(bench_parser PRIVATE SB_BENCH_OTHERS)
  target_compile_options(bench_parser PRIVATE -O2)
  # third-party headers do not survive our warning set
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/parser_others.c PROPERTIES COMPILE_OPTIONS "-w")
  target_link_libraries(bench_parser PRIVATE PkgConfig::OSIP2 PkgConfig::SOFIA)
  set_target_properties(bench_parser PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  add_custom_target(run_bench_parser COMMAND bench_parser DEPENDS bench_parser USES_TERMINAL)
else()
  message(STATUS "bench_parser skipped: libosip2-dev and libsofia-sip-ua-dev not found")
endif()
