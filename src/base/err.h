/* The one error list of switchboard: negative codes with names and messages.
 * Owns SB_ERR_MAP; every module returns these (0 = success). */
#ifndef SB_BASE_ERR_H
#define SB_BASE_ERR_H

/* X(name, message) */
/* clang-format off */
#define SB_ERR_MAP(X)                                                   \
	X(AGAIN, "need more data")                                      \
	X(MALFORMED, "malformed input")                                 \
	X(NOMEM, "out of memory")                                       \
	X(NORES, "no resource available")                               \
	X(TOOBIG, "input exceeds a limit")                              \
	X(INVAL, "invalid argument")                                    \
	X(NOTFOUND, "not found")                                        \
	X(EXISTS, "already exists")                                     \
	X(UNSUPPORTED, "not supported")                                 \
	X(IO, "input/output error")                                     \
	X(TIMEDOUT, "timed out")                                        \
	X(CLOSED, "closed")                                             \
	X(BUSY, "busy")                                                 \
	X(STATE, "not allowed in this state")                           \
	X(CANCELED, "canceled")                                         \
	X(AUTH, "authentication failed")
/* clang-format on */

enum sb_err {
	SB_OK = 0,
	SB__ERR_BASE = -1000,
#define SB__ERR_ENUM(n, m) SB_E##n,
	SB_ERR_MAP(SB__ERR_ENUM)
#undef SB__ERR_ENUM
	    SB__ERR_END
};

/* Short name ("MALFORMED") of a code; "OK" for 0; "UNKNOWN" otherwise. */
const char *sb_err_name(int err);
/* Human message of a code. */
const char *sb_strerror(int err);

#endif
