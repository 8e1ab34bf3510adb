/* The client side of switchboard's HTTP API: the endpoint URL, a locally signed access token
 * with the grants one RPC needs (api/token.h), the POST (libcurl) and Twirp error text. */
#ifndef SB_CLI_CLIENT_H
#define SB_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/token.h"

#define CLI_CONNECT_TIMEOUT_S 10
#define CLI_REQUEST_TIMEOUT_S 60 /* RPCs that answer at once; waited calls have none */

struct cli_conn {
	const char *url; /* http(s)://host:port; ws(s):// and a bare host:port are taken too */
	const char *api_key, *api_secret;
};

struct cli_reply {
	long status; /* HTTP status */
	char *body;  /* malloc'd, NUL-terminated */
	size_t len;
};

/* base + "/twirp/" + service + "/" + method; ws -> http, wss -> https, no scheme -> http.
 * 0 or SB_EINVAL (another scheme, too long). */
int cli_endpoint(const char *base, const char *service, const char *method, char *out, size_t cap);

/* The claims a token for service/method carries: api_rpc_perm's permission (fallback when
 * the RPC is not in its table), video.room = the request's "room" or "room_name". */
void cli_grants(const char *service, const char *method, enum api_perm fallback, const json_t *req,
		struct api_claims *out);

/* A token for the RPC, valid 10 minutes from now; *out malloc'd. 0 or a negative code. */
int cli_token(const struct cli_conn *c, const struct api_claims *grants, uint64_t now, char **out);

/* POST body to url with the token: 0 when an HTTP answer came (any status), else SB_EIO
 * with the reason in err. no_timeout: wait as long as the server takes. */
int cli_post(const char *url, const char *token, const char *body, bool no_timeout,
	     struct cli_reply *r, char *err, size_t cap);
void cli_reply_free(struct cli_reply *r);

/* An error answer -> "error: CODE: MSG", plus a line "SIP 486 Busy Here" when its meta has
 * sip_status_code (and sip_status). */
void cli_twirp_error(long status, const char *body, char *out, size_t cap);

#endif
