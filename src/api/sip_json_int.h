/* Private to the sip_json module: helpers and tables shared by sip_json_in.c,
 * sip_json_call_in.c, sip_json_check.c and sip_json_out.c. Not part of the API; include only
 * from src/api/sip_json_*.c. */
#ifndef SB_API_SIP_JSON_INT_H
#define SB_API_SIP_JSON_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compat.h"

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

/* ---- Request parsing (sip_json_in.c; used by sip_json_call_in.c too) ---- */

/* The parse context: where the error goes and the JSON path of the field being read. */
struct sip_json__pctx {
	char *err;
	size_t err_len;
	char path[256];
	size_t plen;
};

void sip_json__pctx_init(struct sip_json__pctx *c, char *err, size_t err_len);
/* Writes "PATH: message" (or the message alone at the top level) and returns SB_EINVAL. */
int sip_json__fail(struct sip_json__pctx *c, const char *fmt, ...) SB_PRINTF(2, 3);
/* Append ".fieldName" (camelCase) to the path; returns the length to pop back to. */
size_t sip_json__push(struct sip_json__pctx *c, const char *snake);
void sip_json__pop(struct sip_json__pctx *c, size_t old);
int sip_json__need_object(struct sip_json__pctx *c, const json_t *req);

/* Typed field readers: each finds snake (or its camelCase form) in o; an absent or null field
 * leaves *dst alone and returns 0. get_map replaces *dst; get_duration reads a
 * google.protobuf.Duration into ms; get_enum sets *present (may be NULL) when the field is
 * given. */
int sip_json__get_str(struct sip_json__pctx *c, const json_t *o, const char *f, char **dst);
int sip_json__get_bool(struct sip_json__pctx *c, const json_t *o, const char *f, bool *dst);
int sip_json__get_enum(struct sip_json__pctx *c, const json_t *o, const char *f,
		       const struct sip_json__enum_def *d, int *dst, bool *present);
int sip_json__get_duration(struct sip_json__pctx *c, const json_t *o, const char *f, int64_t *ms);
int sip_json__get_map(struct sip_json__pctx *c, const json_t *o, const char *f,
		      struct store_map *dst);
int sip_json__get_object(struct sip_json__pctx *c, const json_t *o, const char *f, json_t **out);

#endif /* SB_API_SIP_JSON_INT_H */
