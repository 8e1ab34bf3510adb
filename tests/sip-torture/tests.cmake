# RFC 4475 / RFC 5118 torture messages: one ctest per file, named torture/<file>.
# Expectations follow ../shared/testdata/sip-torture/INDEX.tsv; where INDEX allows two outcomes
# the stricter one is asserted (see the comments). Facts use the driver's names (torture.c);
# values containing ';' are given as hex: because ';' separates CMake list items.

add_executable(sip_torture ${CMAKE_CURRENT_LIST_DIR}/torture.c)
target_link_libraries(sip_torture PRIVATE sb_sip)

set(SB_TORTURE_DIR ${CMAKE_SOURCE_DIR}/../shared/testdata/sip-torture)

function(sb_torture file expect)
  add_test(NAME torture/${file} COMMAND sip_torture ${SB_TORTURE_DIR}/${file} ${expect} ${ARGN})
  set_tests_properties(torture/${file} PROPERTIES LABELS torture TIMEOUT 30)
endfunction()

# ---- RFC 4475 3.1.1: valid messages ----
sb_torture(wsinv.dat accept max_forwards=68 cseq=9 via_count=3 body_len=150
  via.0.host=192.0.2.2 via.1.transport=TCP via.1.branch=z9hG4bK9ikj8 via.2.branch=z9hG4bK30239
  to_tag=1918181833n from_tag=98asjd8 resp_via_count=3)
sb_torture(intmeth.dat 501 extra_has=Allow: "method=!interesting-Method0123456789_*+`.%indeed'~")
sb_torture(esc01.dat accept ruri_user=sips:user@example.com to_user=user "from_user=I have spaces"
  contact.0.user=caller)
# escnull: the decoded users hold NUL bytes; two distinct Contact bindings
sb_torture(escnull.dat accept policy=registrar to_user=hex:6e756c6c2d002d6e756c6c contact_count=2
  contact.0.user=hex:00 contact.1.user=hex:0000)
sb_torture(esc02.dat 501 method=RE%47IST%45R contact_count=2 ext_hdr=C%6Fntact)
sb_torture(lwsdisp.dat accept from_display=caller)
sb_torture(longreq.dat accept via_count=34 resp_via_count=34 body_len=150)
# dblreq: the REGISTER is the whole datagram's message; the trailing INVITE is never parsed
sb_torture(dblreq.dat accept policy=registrar method=REGISTER consumed=300 body_len=0)
sb_torture(semiuri.dat accept ruri_user=hex:757365723b7061723d75406578616d706c652e6e6574 ruri_host=example.com ruri_params=)
sb_torture(transports.dat accept via_count=5 via.0.transport=UDP via.1.transport=SCTP
  via.2.transport=TLS via.3.transport=UNKNOWN via.4.transport=TCP via.0.host=t1.example.com)
sb_torture(mpart01.dat accept body_len=553)
sb_torture(unreason.dat accept)
sb_torture(noreason.dat accept)

# ---- RFC 4475 3.1.2: invalid messages ----
sb_torture(badinv01.dat 400)
sb_torture(clerr.dat 400)
sb_torture(ncl.dat 400)
sb_torture(scalar02.dat 400)
sb_torture(scalarlg.dat discard)
sb_torture(quotbal.dat 400)
sb_torture(ltgtruri.dat 400)
sb_torture(lwsruri.dat 400)
sb_torture(lwsstart.dat 400)
sb_torture(trws.dat 400)
sb_torture(escruri.dat 400)
# baddate: INDEX allows ignoring the Date; stricter choice: 400 (SIP_CHECK_STRICT_DATE)
sb_torture(baddate.dat 400)
sb_torture(regbadct.dat 400 policy=registrar)
sb_torture(badaspec.dat 400)
# baddn: archive bytes end without the empty line -> 400 (truncated); the terminated variant
# reaches the display-name error -> 400
sb_torture(baddn.dat 400)
sb_torture(variants/baddn-terminated.dat 400)
sb_torture(badvers.dat 505)
sb_torture(mismatch01.dat 400)
# mismatch02: INDEX allows 501 (preferred) or 400; stricter choice: 400 (CSeq mismatch is
# checked before the method)
sb_torture(mismatch02.dat 400)
sb_torture(bigcode.dat discard)

# ---- RFC 4475 3.2 / 3.3 / 3.4 ----
# badbranch: INDEX allows 400 or RFC 2543 matching; stricter choice: 400 (SIP_CHECK_STRICT_BRANCH)
sb_torture(badbranch.dat 400)
sb_torture(insuf.dat 400)
sb_torture(unkscm.dat 416)
# novelsc: 416 (soap.beep is never accepted here)
sb_torture(novelsc.dat 416)
# unksm2: as a registrar, 400 (To must be sip/sips)
sb_torture(unksm2.dat 400 policy=registrar)
sb_torture(bext01.dat 420 extra_has=Unsupported: extra_has=nothingSupportsThis)
sb_torture(invut.dat 415 extra_has=Accept: extra_has=application/sdp)
# regaut01: we are not a registrar -> 405 with Allow (never treated as authenticated)
sb_torture(regaut01.dat 405 extra_has=Allow:)
sb_torture(multi01.dat 400)
sb_torture(mcl01.dat 400)
sb_torture(bcast.dat discard)
sb_torture(zeromf.dat accept max_forwards=0)
# cparam01: addr-spec Contact -> ';unknownparam' is a header param, not in the URI
sb_torture(cparam01.dat accept policy=registrar contact.0.uri=sip:+19725552222@gw1.example.net
  contact.0.params=hex:3b756e6b6e6f776e706172616d contact.0.uri_params=)
# cparam02: <> Contact -> ';unknownparam' is a URI param
sb_torture(cparam02.dat accept policy=registrar contact.0.params=
  contact.0.uri_params=hex:3b756e6b6e6f776e706172616d)
sb_torture(regescrt.dat accept policy=registrar contact_count=1)
# sdp01: INDEX allows 406 or 400; 406 is the specific answer asked for
sb_torture(sdp01.dat 406)
sb_torture(inv2543.dat accept body_len=105)
# test.dat: request line without SIP-Version
sb_torture(test.dat 400)

# ---- RFC 5118 ----
sb_torture(ipv6-good.dat accept policy=registrar ruri_host=2001:db8::10 via.0.host=2001:db8::9:1)
sb_torture(ipv6-bad.dat 400)
sb_torture(port-ambiguous.dat accept policy=registrar ruri_host=2001:db8::10:5070 ruri_port=0)
sb_torture(port-unambiguous.dat accept policy=registrar ruri_host=2001:db8::10 ruri_port=5070)
sb_torture(via-received-param-with-delim.dat accept via.0.received=[2001:db8::9:255]
  via.0.branch=z9hG4bKas3-111)
sb_torture(via-received-param-no-delim.dat accept via.0.received=2001:db8::9:255
  via.0.branch=z9hG4bKas3)
sb_torture(ipv6-in-sdp.dat accept body_len=251)
sb_torture(mult-ip-in-header.dat accept via_count=3 via.0.host=2001:db8::9:1 via.0.port=6050
  via.1.host=192.0.2.1 via.2.host=2001:db8::9:255 via.2.received=192.0.2.200)
sb_torture(mult-ip-in-sdp.dat accept body_len=189)
sb_torture(ipv4-mapped-ipv6.dat accept body_len=245)
# three colons: RFC 5118 tolerates, RFC 5954 fixed the ABNF; stricter choice: 400
sb_torture(ipv6-bug-abnf-3-colons.dat 400)
sb_torture(ipv6-correct-abnf-2-colons.dat accept ruri_host=2001:db8::192.0.2.1)

# ---- RFC 5118 archive files as decoded (bare LF, not in INDEX as messages): bare LF line ends
# are accepted; the three with a wrong printed Content-Length and the two without the empty
# line get 400 like any such datagram ----
sb_torture(rfc5118-archive/ipv6-good accept policy=registrar)
sb_torture(rfc5118-archive/ipv6-bad 400)
sb_torture(rfc5118-archive/port-ambiguous accept policy=registrar)
sb_torture(rfc5118-archive/port-unambiguous accept policy=registrar)
sb_torture(rfc5118-archive/via-received-param-with-delim accept)
sb_torture(rfc5118-archive/via-received-param-no-delim accept)
sb_torture(rfc5118-archive/mult-ip-in-header accept via_count=3)
sb_torture(rfc5118-archive/ipv6-in-sdp 400)
sb_torture(rfc5118-archive/mult-ip-in-sdp 400)
sb_torture(rfc5118-archive/ipv4-mapped-ipv6 accept body_len=236)
sb_torture(rfc5118-archive/ipv6-bug-abnf-3-colons 400)
sb_torture(rfc5118-archive/ipv6-correct-abnf-2-colons 400)
