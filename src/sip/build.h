/* Printing SIP responses from a parsed request (RFC 3261 §8.2.6), the Via stamping of
 * RFC 3261 §18.2.1 / RFC 3581 and the status-code reason phrases. */
#ifndef SB_SIP_BUILD_H
#define SB_SIP_BUILD_H

#include "base/buf.h"
#include "base/slice.h"
#include "sip/msg.h"

/* X(code, default reason phrase). One list: sip_reason_phrase() is generated from it. */
/* clang-format off */
#define SIP_STATUS_MAP(X)                                                     \
	X(100, "Trying")                                                      \
	X(180, "Ringing")                                                     \
	X(181, "Call Is Being Forwarded")                                     \
	X(182, "Queued")                                                      \
	X(183, "Session Progress")                                            \
	X(199, "Early Dialog Terminated")                                     \
	X(200, "OK")                                                          \
	X(202, "Accepted")                                                    \
	X(204, "No Notification")                                             \
	X(300, "Multiple Choices")                                            \
	X(301, "Moved Permanently")                                           \
	X(302, "Moved Temporarily")                                           \
	X(305, "Use Proxy")                                                   \
	X(380, "Alternative Service")                                         \
	X(400, "Bad Request")                                                 \
	X(401, "Unauthorized")                                                \
	X(402, "Payment Required")                                            \
	X(403, "Forbidden")                                                   \
	X(404, "Not Found")                                                   \
	X(405, "Method Not Allowed")                                          \
	X(406, "Not Acceptable")                                              \
	X(407, "Proxy Authentication Required")                               \
	X(408, "Request Timeout")                                             \
	X(410, "Gone")                                                        \
	X(412, "Conditional Request Failed")                                  \
	X(413, "Request Entity Too Large")                                    \
	X(414, "Request-URI Too Long")                                        \
	X(415, "Unsupported Media Type")                                      \
	X(416, "Unsupported URI Scheme")                                      \
	X(417, "Unknown Resource-Priority")                                   \
	X(420, "Bad Extension")                                               \
	X(421, "Extension Required")                                          \
	X(422, "Session Interval Too Small")                                  \
	X(423, "Interval Too Brief")                                          \
	X(428, "Use Identity Header")                                         \
	X(429, "Provide Referrer Identity")                                   \
	X(433, "Anonymity Disallowed")                                        \
	X(436, "Bad Identity-Info")                                           \
	X(437, "Unsupported Certificate")                                     \
	X(438, "Invalid Identity Header")                                     \
	X(439, "First Hop Lacks Outbound Support")                            \
	X(440, "Max-Breadth Exceeded")                                        \
	X(469, "Bad Info Package")                                            \
	X(470, "Consent Needed")                                              \
	X(480, "Temporarily Unavailable")                                     \
	X(481, "Call/Transaction Does Not Exist")                             \
	X(482, "Loop Detected")                                               \
	X(483, "Too Many Hops")                                               \
	X(484, "Address Incomplete")                                          \
	X(485, "Ambiguous")                                                   \
	X(486, "Busy Here")                                                   \
	X(487, "Request Terminated")                                          \
	X(488, "Not Acceptable Here")                                         \
	X(489, "Bad Event")                                                   \
	X(491, "Request Pending")                                             \
	X(493, "Undecipherable")                                              \
	X(494, "Security Agreement Required")                                 \
	X(500, "Server Internal Error")                                       \
	X(501, "Not Implemented")                                             \
	X(502, "Bad Gateway")                                                 \
	X(503, "Service Unavailable")                                         \
	X(504, "Server Time-out")                                             \
	X(505, "Version Not Supported")                                       \
	X(513, "Message Too Large")                                           \
	X(555, "Push Notification Service Not Supported")                     \
	X(580, "Precondition Failure")                                        \
	X(600, "Busy Everywhere")                                             \
	X(603, "Decline")                                                     \
	X(604, "Does Not Exist Anywhere")                                     \
	X(606, "Not Acceptable")                                              \
	X(607, "Unwanted")                                                    \
	X(608, "Rejected")
/* clang-format on */

/* Default phrase of a status code; for a code not in the list, a generic phrase of its class
 * ("Unknown Provisional", ..., "Unknown Global Failure"); "Unknown" outside 100-699. */
const char *sip_reason_phrase(int code);

/* Append a complete response to req: status line, every Via (in order, all values; the top one
 * stamped with received/rport when req->src_ip is set), From, To (with ;tag=to_tag added when the
 * request's To has no tag, status > 100 and to_tag is not empty), Call-ID, CSeq, extra_headers
 * (already formatted "Name: value\r\n" lines, may be empty), Content-Type when body is not empty,
 * Content-Length always, the empty line and the body. reason NULL = sip_reason_phrase(status).
 * Header values are copied unfolded. Returns 0 or the buffer's error (SB_ENOMEM / SB_ETOOBIG)
 * or SB_EINVAL for a status outside 100-699. */
int sip_build_response(struct sb_buf *b, const struct sip_msg *req, int status, const char *reason,
		       struct sb_slice to_tag, struct sb_slice extra_headers,
		       struct sb_slice content_type, struct sb_slice body);

/* Append the request's Via header lines ("Via: ...\r\n" each) with the top via-parm stamped per
 * RFC 3261 §18.2.1 and RFC 3581 §4: received=src_ip is added when src_ip is not empty and
 * (the sent-by host differs from it or the request has rport); rport=src_port replaces a bare
 * rport when src_port is not empty. Existing received/rport params of the top Via are replaced. */
void sip_build_response_via(struct sb_buf *b, const struct sip_msg *req, struct sb_slice src_ip,
			    struct sb_slice src_port);

/* Append a header value with folding removed (CR and LF dropped). */
void sip_build_append_unfolded(struct sb_buf *b, struct sb_slice v);

#endif
