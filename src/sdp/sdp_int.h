/* Internals shared by the SDP module's files (not part of the API).
 * Owns the sdp__ prefix. */
#ifndef SB_SDP_SDP_INT_H
#define SB_SDP_SDP_INT_H

#include "base/buf.h"
#include "sdp/sdp.h"

/* Codec of a parsed format: rtpmap name (case-insensitive) + rate + channels, else static PT. */
enum sdp_codec sdp__fmt_codec(const struct sdp_fmt *f);
/* "IP4" / "IP6" for printing our own addresses; NULL for anything else. */
const char *sdp__addrtype_name(enum sdp_addrtype t);
/* Print "c=IN <type> <addr><suffix>\r\n". */
void sdp__print_conn(struct sb_buf *b, const struct sdp_conn *c);

#endif
