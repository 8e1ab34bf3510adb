/* The client side of the HTTP API: endpoint URLs, tokens signed here with api_token_create,
 * the POST over libcurl (http and https) and the text of Twirp errors. */
#include "cli/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

int cli_endpoint(const char *base, const char *service, const char *method, char *out, size_t cap)
{
	static const char *const schemes[][2] = {{"http://", "http://"},
						 {"https://", "https://"},
						 {"ws://", "http://"},
						 {"wss://", "https://"}};
	const char *scheme = "http://", *rest = base;
	const char *sep = strstr(base, "://");
	if (sep) {
		scheme = NULL;
		for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
			if (!strncasecmp(base, schemes[i][0], strlen(schemes[i][0]))) {
				scheme = schemes[i][1];
				rest = base + strlen(schemes[i][0]);
			}
		if (!scheme)
			return SB_EINVAL;
	}
	size_t n = strlen(rest);
	while (n && rest[n - 1] == '/')
		n--;
	if (!n)
		return SB_EINVAL;
	int w = snprintf(out, cap, "%s%.*s/twirp/%s/%s", scheme, (int)n, rest, service, method);
	return w < 0 || (size_t)w >= cap ? SB_EINVAL : 0;
}

static void set_room(struct api_claims *g, const json_t *req)
{
	const char *room = json_string_value(json_object_get(req, "room"));
	if (!room)
		room = json_string_value(json_object_get(req, "room_name"));
	snprintf(g->video.room, sizeof(g->video.room), "%s", room ? room : "");
}

void cli_grants(const char *service, const char *method, enum api_perm fallback, const json_t *req,
		struct api_claims *g)
{
	memset(g, 0, sizeof(*g));
	g->has_video = true; /* as the SDKs do: always a video grant, maybe empty */
	enum api_perm p = api_rpc_perm(sb_slice_cstr(service), sb_slice_cstr(method));
	switch (p == API_PERM_NONE ? fallback : p) {
	case API_PERM_SIP_ADMIN:
		g->has_sip = g->sip.admin = true;
		break;
	case API_PERM_SIP_CALL:
		g->has_sip = g->sip.call = true;
		break;
	case API_PERM_SIP_CALL_ROOM_ADMIN:
		g->has_sip = g->sip.call = true;
		g->video.room_admin = true;
		set_room(g, req);
		break;
	case API_PERM_ROOM_CREATE:
		g->video.room_create = true;
		break;
	case API_PERM_ROOM_LIST:
		g->video.room_list = true;
		break;
	case API_PERM_ROOM_ADMIN:
		g->video.room_admin = true;
		set_room(g, req);
		break;
	case API_PERM_NONE:
		break;
	}
}

int cli_token(const struct cli_conn *c, const struct api_claims *grants, uint64_t now, char **out)
{
	struct api_token_opts o = {
	    .key = c->api_key,
	    .secret = c->api_secret,
	    .now = now,
	    .ttl_s = 600,
	    .grants = grants,
	};
	return api_token_create(&o, out);
}

/* ---- HTTP ---- */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct cli_reply *r = arg;
	size_t add = size * n;
	char *b = realloc(r->body, r->len + add + 1);
	if (!b)
		return 0; /* curl fails the transfer */
	memcpy(b + r->len, p, add);
	r->len += add;
	b[r->len] = '\0';
	r->body = b;
	return add;
}

static struct curl_slist *headers(const char *token)
{
	char auth[API_TOKEN_MAX_LEN + 32];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, auth) : NULL;
	if (!h2)
		curl_slist_free_all(h);
	return h2;
}

int cli_post(const char *url, const char *token, const char *body, bool no_timeout,
	     struct cli_reply *r, char *err, size_t cap)
{
	memset(r, 0, sizeof(*r));
	char why[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = headers(token);
	int rc = 0;
	if (!h || !hdr) {
		snprintf(err, cap, "out of memory");
		rc = SB_ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLI_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, no_timeout ? 0L : (long)CLI_REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "switchboard-cli");
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(err, cap, "%s", why[0] ? why : curl_easy_strerror(cc));
		rc = SB_EIO;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (!r->body && !(r->body = calloc(1, 1))) {
		snprintf(err, cap, "out of memory");
		rc = SB_ENOMEM;
	}
out:
	if (rc)
		cli_reply_free(r);
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

void cli_reply_free(struct cli_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void cli_twirp_error(long status, const char *body, char *out, size_t cap)
{
	json_t *e = json_loads(body ? body : "", JSON_DISABLE_EOF_CHECK, NULL);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "msg"));
	if (!code) {
		size_t n = body ? strcspn(body, "\r\n") : 0;
		snprintf(out, cap, "error: HTTP %ld%s%.*s", status, n ? ": " : "",
			 (int)(n > 200 ? 200 : n), body ? body : "");
		json_decref(e);
		return;
	}
	int w = snprintf(out, cap, "error: %s: %s", code, msg ? msg : "");
	const json_t *meta = json_object_get(e, "meta");
	const json_t *scv = json_object_get(meta, "sip_status_code");
	const char *st = json_string_value(json_object_get(meta, "sip_status"));
	char sc[24] = "";
	if (json_is_integer(scv))
		snprintf(sc, sizeof(sc), "%" JSON_INTEGER_FORMAT, json_integer_value(scv));
	else if (json_is_string(scv))
		snprintf(sc, sizeof(sc), "%s", json_string_value(scv));
	if (sc[0] && w >= 0 && (size_t)w < cap)
		snprintf(out + w, cap - (size_t)w, "\nSIP %s%s%s", sc, st && *st ? " " : "",
			 st ? st : "");
	json_decref(e);
}
