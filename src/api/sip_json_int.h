/* Private to the sip_json module: helpers and tables shared by sip_json_in.c, sip_json_check.c
 * and sip_json_out.c. Not part of the API; include only from src/api/sip_json_*.c. */
#ifndef SB_API_SIP_JSON_INT_H
#define SB_API_SIP_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>

/* ---- Enum names (livekit_sip.proto) ---- */

struct sip_json__enum_def {
	const char *type; /* for messages */
	const char *const *names;
	size_t n;
};

extern const struct sip_json__enum_def sip_json__transport_enum;
extern const struct sip_json__enum_def sip_json__encryption_enum;
extern const struct sip_json__enum_def sip_json__header_option_enum;

/* NULL or "". */
bool sip_json__empty(const char *s);
/* Extra SIP headers of a request (`headers`): names are tokens the SIP stack does not own,
 * values have no CR or LF. 0 or SB_EINVAL with err. */
struct store_map;
int sip_json__check_headers(const struct store_map *headers, char *err, size_t err_len);

#endif /* SB_API_SIP_JSON_INT_H */
