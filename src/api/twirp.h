/* Twirp over HTTP as LiveKit's SDKs speak it: POST /twirp/<package.Service>/<Method> with
 * JSON bodies, a registry of method handlers, token and grant checks, Twirp error JSON. */
#ifndef SB_API_TWIRP_H
#define SB_API_TWIRP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "api/token.h"
#include "base/buf.h"
#include "base/compat.h"
#include "base/slice.h"

#define TWIRP_PREFIX "/twirp/"

/* X(NAME, wire name, HTTP status) — research §1.4. */
/* clang-format off */
#define TWIRP_CODE_MAP(X)                                               \
	X(CANCELED, "canceled", 408)                                    \
	X(UNKNOWN, "unknown", 500)                                      \
	X(INVALID_ARGUMENT, "invalid_argument", 400)                    \
	X(MALFORMED, "malformed", 400)                                  \
	X(DEADLINE_EXCEEDED, "deadline_exceeded", 408)                  \
	X(NOT_FOUND, "not_found", 404)                                  \
	X(BAD_ROUTE, "bad_route", 404)                                  \
	X(ALREADY_EXISTS, "already_exists", 409)                        \
	X(PERMISSION_DENIED, "permission_denied", 403)                  \
	X(UNAUTHENTICATED, "unauthenticated", 401)                      \
	X(RESOURCE_EXHAUSTED, "resource_exhausted", 429)                \
	X(FAILED_PRECONDITION, "failed_precondition", 412)              \
	X(ABORTED, "aborted", 409)                                      \
	X(OUT_OF_RANGE, "out_of_range", 400)                            \
	X(UNIMPLEMENTED, "unimplemented", 501)                          \
	X(INTERNAL, "internal", 500)                                    \
	X(UNAVAILABLE, "unavailable", 503)                              \
	X(DATALOSS, "dataloss", 500)
/* clang-format on */

enum twirp_code {
#define TWIRP__ENUM(n, s, st) TWIRP_##n,
	TWIRP_CODE_MAP(TWIRP__ENUM)
#undef TWIRP__ENUM
	    TWIRP__CODE_COUNT
};

/* "not_found"; "unknown" for a value out of range. */
const char *twirp_code_name(enum twirp_code c);
/* The HTTP status of a code (500 for a value out of range). */
int twirp_code_status(enum twirp_code c);
/* Wire name -> code; 0 or SB_ENOTFOUND. */
int twirp_code_from_name(struct sb_slice name, enum twirp_code *out);

struct twirp_error {
	enum twirp_code code;
	char msg[512];
	json_t *meta; /* object of string values, or NULL; owned (twirp_error_clear frees it) */
};

void twirp_error_set(struct twirp_error *e, enum twirp_code code, const char *fmt, ...)
    SB_PRINTF(3, 4);
/* Add a meta entry (values are always strings on the wire); 0 or SB_ENOMEM. */
int twirp_error_meta(struct twirp_error *e, const char *key, const char *value);
void twirp_error_clear(struct twirp_error *e);
/* {"code":"...","msg":"...","meta":{...}} ("meta" only when it has entries) appended to b. */
void twirp_error_json(const struct twirp_error *e, struct sb_buf *b);
/* Answer resp with e: its status, Content-Type exactly application/json, the JSON body. */
void twirp_error_respond(const struct twirp_error *e, struct api_http_resp *resp);

/* "/twirp/livekit.SIP/CreateSIPParticipant" -> ("livekit.SIP", "CreateSIPParticipant").
 * A leading "//" is taken as "/". 0, or SB_ENOTFOUND for any other shape. */
int twirp_parse_path(struct sb_slice path, struct sb_slice *service, struct sb_slice *method);

/* What a handler gets: the request object (borrowed) and the caller's verified claims. */
struct twirp_call {
	struct sb_slice service, method;
	json_t *req;
	const struct api_claims *claims;
	struct api_http_resp *http_resp; /* twirp_serve's (for twirp_defer) */
	bool *deferred;			 /* twirp_serve's */
};

/*
 * Answering later: a handler that waits for an outcome (a SIP answer, a NOTIFY) calls
 * twirp_defer and returns 0 (its *resp is ignored); later exactly one of twirp_later_ok /
 * twirp_later_fail answers the client. gone(arg) runs instead when the client goes away
 * (or the server closes) first; l is invalid after any of the three.
 * NULL when the call cannot be deferred (not served over HTTP, out of memory): answer now.
 */
struct twirp_later;
struct twirp_later *twirp_defer(const struct twirp_call *call, void (*gone)(void *arg), void *arg);
/* resp: an object (reference stolen; NULL answers {}). */
void twirp_later_ok(struct twirp_later *l, json_t *resp);
void twirp_later_fail(struct twirp_later *l, const struct twirp_error *e);

/*
 * A method handler: return 0 and a new reference to a JSON object in *resp (NULL answers
 * {}), or a non-zero value with e filled in (e starts as internal / "internal error").
 * Handlers run on the control loop and must not block.
 */
typedef int (*twirp_fn)(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			void *arg);

struct twirp_method {
	const char *service; /* "livekit.SIP" */
	const char *method;  /* "CreateSIPParticipant" */
	enum api_perm perm;  /* API_PERM_NONE: the table of api_rpc_perm decides */
	twirp_fn fn;
	void *arg;
};

struct twirp_opts {
	const struct api_keyring *keys; /* copied */
	uint64_t (*now)(void);		/* Unix seconds; NULL = the wall clock */
};

struct twirp_server;

int twirp_new(struct twirp_server **out, const struct twirp_opts *o);
void twirp_free(struct twirp_server *t);
/* 0; SB_EINVAL when no permission is given or known for the method; SB_EEXISTS when it is
 * registered already; SB_ENOMEM. The strings are copied. */
int twirp_register(struct twirp_server *t, const struct twirp_method *m);

/*
 * Serve one request whose path starts with TWIRP_PREFIX (an api_http_fn: arg = t). Order of
 * checks: POST, route, Content-Type, token, body, grant; each failure is a Twirp error. A
 * method of the api_rpc_perm table with no handler registered passes every check and then
 * gets unimplemented (501); any other unregistered path gets bad_route.
 */
void twirp_serve(const struct api_http_req *req, struct api_http_resp *resp, void *arg);

#endif
