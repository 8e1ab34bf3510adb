/* Names and messages for the error codes of err.h, generated from SB_ERR_MAP. */
#include "base/err.h"

const char *sb_err_name(int err)
{
	switch (err) {
	case SB_OK:
		return "OK";
#define SB__ERR_NAME(n, m)                                                                         \
	case SB_E##n:                                                                              \
		return #n;
		SB_ERR_MAP(SB__ERR_NAME)
#undef SB__ERR_NAME
	default:
		return "UNKNOWN";
	}
}

const char *sb_strerror(int err)
{
	switch (err) {
	case SB_OK:
		return "success";
#define SB__ERR_MSG(n, m)                                                                          \
	case SB_E##n:                                                                              \
		return m;
		SB_ERR_MAP(SB__ERR_MSG)
#undef SB__ERR_MSG
	default:
		return "unknown error";
	}
}
