/* Access tokens: verification of client JWTs (libjwt, HS256), the grant table of research
 * §2.2, token creation for tests, the CLI and webhooks, and the webhook body hash. */
#include "api/token.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/err.h"

int api_token_bearer(struct sb_slice authorization, struct sb_slice *token)
{
	struct sb_slice a = sb_slice_trim(authorization);
	if (a.len < 7 || !sb_slice_starts_with_nocase(a, "bearer "))
		return SB_EAUTH;
	struct sb_slice t = sb_slice_trim(sb_slice(a.p + 7, a.len - 7));
	if (!t.len)
		return SB_EAUTH;
	*token = t;
	return 0;
}

static const char *find_secret(const struct api_keyring *keys, const char *iss)
{
	for (size_t i = 0; keys && i < keys->n; i++)
		if (keys->keys[i].key && !strcmp(keys->keys[i].key, iss))
			return keys->keys[i].secret;
	return NULL;
}

/* Optional string member: absent leaves dst empty; not a string or too long is malformed. */
static int get_str(json_t *obj, const char *key, char *dst, size_t cap)
{
	dst[0] = '\0';
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return SB_EMALFORMED;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_bool(json_t *obj, const char *key, bool *dst)
{
	json_t *v = json_object_get(obj, key);
	*dst = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return SB_EMALFORMED;
	*dst = json_is_true(v);
	return 0;
}

static int get_time(json_t *obj, const char *key, int64_t *dst)
{
	json_t *v = json_object_get(obj, key);
	*dst = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		*dst = (int64_t)json_integer_value(v);
	else if (json_is_real(v))
		*dst = (int64_t)json_real_value(v); /* NumericDate may carry a fraction */
	else
		return SB_EMALFORMED;
	return 0;
}

static int parse_video(json_t *v, struct api_video_grant *g)
{
	if (!json_is_object(v))
		return SB_EMALFORMED;
	int err = 0;
	err |= get_bool(v, "roomCreate", &g->room_create);
	err |= get_bool(v, "roomJoin", &g->room_join);
	err |= get_bool(v, "roomList", &g->room_list);
	err |= get_bool(v, "roomRecord", &g->room_record);
	err |= get_bool(v, "roomAdmin", &g->room_admin);
	err |= get_bool(v, "ingressAdmin", &g->ingress_admin);
	err |= get_bool(v, "canPublish", &g->can_publish);
	err |= get_bool(v, "canSubscribe", &g->can_subscribe);
	err |= get_bool(v, "canPublishData", &g->can_publish_data);
	err |= get_bool(v, "canUpdateOwnMetadata", &g->can_update_own_metadata);
	err |= get_bool(v, "hidden", &g->hidden);
	err |= get_bool(v, "recorder", &g->recorder);
	err |= get_bool(v, "agent", &g->agent);
	err |= get_str(v, "room", g->room, sizeof(g->room));
	err |= get_str(v, "destinationRoom", g->destination_room, sizeof(g->destination_room));
	return err ? SB_EMALFORMED : 0;
}

static int parse_claims(json_t *c, struct api_claims *out)
{
	if (!json_is_object(c))
		return SB_EMALFORMED;
	int err = 0;
	err |= get_str(c, "iss", out->iss, sizeof(out->iss));
	err |= get_str(c, "sub", out->sub, sizeof(out->sub));
	err |= get_str(c, "name", out->name, sizeof(out->name));
	err |= get_str(c, "kind", out->kind, sizeof(out->kind));
	err |= get_str(c, "sha256", out->sha256, sizeof(out->sha256));
	err |= get_time(c, "nbf", &out->nbf);
	err |= get_time(c, "exp", &out->exp);
	if (err)
		return SB_EMALFORMED;
	json_t *v = json_object_get(c, "video");
	if (v && !json_is_null(v)) {
		if (parse_video(v, &out->video))
			return SB_EMALFORMED;
		out->has_video = true;
	}
	json_t *s = json_object_get(c, "sip");
	if (s && !json_is_null(s)) {
		if (!json_is_object(s) || get_bool(s, "admin", &out->sip.admin) ||
		    get_bool(s, "call", &out->sip.call))
			return SB_EMALFORMED;
		out->has_sip = true;
	}
	return 0;
}

#define WHY(...)                                                                                   \
	do {                                                                                       \
		if (why)                                                                           \
			snprintf(why, why_cap, __VA_ARGS__);                                       \
	} while (0)

int api_token_verify(const struct api_keyring *keys, struct sb_slice token, uint64_t now,
		     struct api_claims *out, char *why, size_t why_cap)
{
	char text[API_TOKEN_MAX_LEN + 1];
	jwt_t *jwt = NULL;
	char *json = NULL;
	json_t *claims = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	size_t dots = 0;
	for (size_t i = 0; i < token.len; i++) {
		if (token.p[i] == '.')
			dots++;
		else if (token.p[i] == '\0')
			dots = 99;
	}
	if (!token.len || token.len > API_TOKEN_MAX_LEN || dots != 2) {
		WHY("not a JWT");
		return SB_EMALFORMED;
	}
	memcpy(text, token.p, token.len);
	text[token.len] = '\0';

	/* Read iss unverified only to find the secret; nothing else is trusted before the
	 * signature is checked with it. */
	if (jwt_decode(&jwt, text, NULL, 0)) {
		WHY("not a JWT");
		return SB_EMALFORMED;
	}
	const char *iss = jwt_get_grant(jwt, "iss");
	const char *secret = iss ? find_secret(keys, iss) : NULL;
	if (!secret) {
		WHY(iss ? "unknown API key" : "token has no issuer (API key)");
		err = SB_EAUTH;
		goto out;
	}
	jwt_free(jwt);
	jwt = NULL;
	if (jwt_decode(&jwt, text, (const unsigned char *)secret, (int)strlen(secret)) ||
	    jwt_get_alg(jwt) != JWT_ALG_HS256) {
		WHY("invalid token signature");
		err = SB_EAUTH;
		goto out;
	}
	json = jwt_get_grants_json(jwt, NULL);
	claims = json ? json_loads(json, 0, NULL) : NULL;
	if (!claims) {
		WHY("unreadable token claims");
		err = json ? SB_EMALFORMED : SB_ENOMEM;
		goto out;
	}
	if (parse_claims(claims, out)) {
		WHY("malformed token claims");
		err = SB_EMALFORMED;
		goto out;
	}
	if (out->exp && (int64_t)now > out->exp + API_TOKEN_LEEWAY_S) {
		WHY("token expired");
		err = SB_EAUTH;
		goto out;
	}
	if (out->nbf && (int64_t)now + API_TOKEN_LEEWAY_S < out->nbf) {
		WHY("token not valid yet");
		err = SB_EAUTH;
		goto out;
	}
	err = 0;
out:
	if (err) {
		struct api_claims zero = {0};
		*out = zero;
	}
	json_decref(claims);
	free(json);
	jwt_free(jwt);
	return err;
}

/* ---- what each RPC needs ---- */

struct rpc_perm {
	const char *service, *method;
	enum api_perm perm;
};

/* Research §2.2. Forward/MoveParticipant also need video.destinationRoom equal to the
 * request's destination_room; their handlers check that part. */
static const struct rpc_perm rpc_perms[] = {
    {"livekit.SIP", "ListSIPTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "CreateSIPInboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "CreateSIPOutboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "UpdateSIPInboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "UpdateSIPOutboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "GetSIPInboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "GetSIPOutboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "ListSIPInboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "ListSIPOutboundTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "DeleteSIPTrunk", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "CreateSIPDispatchRule", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "UpdateSIPDispatchRule", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "ListSIPDispatchRule", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "DeleteSIPDispatchRule", API_PERM_SIP_ADMIN},
    {"livekit.SIP", "CreateSIPParticipant", API_PERM_SIP_CALL},
    {"livekit.SIP", "TransferSIPParticipant", API_PERM_SIP_CALL_ROOM_ADMIN},
    {"livekit.RoomService", "CreateRoom", API_PERM_ROOM_CREATE},
    {"livekit.RoomService", "DeleteRoom", API_PERM_ROOM_CREATE},
    {"livekit.RoomService", "ListRooms", API_PERM_ROOM_LIST},
    {"livekit.RoomService", "ListParticipants", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "GetParticipant", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "RemoveParticipant", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "MutePublishedTrack", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "UpdateParticipant", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "UpdateSubscriptions", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "SendData", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "UpdateRoomMetadata", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "PerformRpc", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "ForwardParticipant", API_PERM_ROOM_ADMIN},
    {"livekit.RoomService", "MoveParticipant", API_PERM_ROOM_ADMIN},
};

enum api_perm api_rpc_perm(struct sb_slice service, struct sb_slice method)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(rpc_perms); i++)
		if (sb_slice_eq_cstr(service, rpc_perms[i].service) &&
		    sb_slice_eq_cstr(method, rpc_perms[i].method))
			return rpc_perms[i].perm;
	return API_PERM_NONE;
}

const char *api_perm_name(enum api_perm p)
{
	switch (p) {
	case API_PERM_NONE:
		return "none";
	case API_PERM_SIP_ADMIN:
		return "sip.admin";
	case API_PERM_SIP_CALL:
		return "sip.call";
	case API_PERM_SIP_CALL_ROOM_ADMIN:
		return "sip.call+video.roomAdmin";
	case API_PERM_ROOM_CREATE:
		return "video.roomCreate";
	case API_PERM_ROOM_LIST:
		return "video.roomList";
	case API_PERM_ROOM_ADMIN:
		return "video.roomAdmin";
	}
	return "?";
}

bool api_perm_check(const struct api_claims *c, enum api_perm p, struct sb_slice room)
{
	/* LiveKit compares the grant's room with the request's as plain strings. */
	bool room_admin = c->video.room_admin && sb_slice_eq_cstr(room, c->video.room);
	switch (p) {
	case API_PERM_NONE:
		return false;
	case API_PERM_SIP_ADMIN:
		return c->sip.admin;
	case API_PERM_SIP_CALL:
		return c->sip.call;
	case API_PERM_SIP_CALL_ROOM_ADMIN:
		return c->sip.call && room_admin;
	case API_PERM_ROOM_CREATE:
		return c->video.room_create;
	case API_PERM_ROOM_LIST:
		return c->video.room_list;
	case API_PERM_ROOM_ADMIN:
		return room_admin;
	}
	return false;
}

/* ---- creation ---- */

static json_t *video_json(const struct api_video_grant *g)
{
	json_t *v = json_object();
	if (!v)
		return NULL;
	struct {
		const char *key;
		bool on;
	} flags[] = {
	    {"roomCreate", g->room_create},
	    {"roomJoin", g->room_join},
	    {"roomList", g->room_list},
	    {"roomRecord", g->room_record},
	    {"roomAdmin", g->room_admin},
	    {"ingressAdmin", g->ingress_admin},
	    {"canPublish", g->can_publish},
	    {"canSubscribe", g->can_subscribe},
	    {"canPublishData", g->can_publish_data},
	    {"canUpdateOwnMetadata", g->can_update_own_metadata},
	    {"hidden", g->hidden},
	    {"recorder", g->recorder},
	    {"agent", g->agent},
	};
	int err = 0;
	for (size_t i = 0; i < SB_ARRAY_LEN(flags); i++)
		if (flags[i].on)
			err |= json_object_set_new(v, flags[i].key, json_true());
	if (g->room[0])
		err |= json_object_set_new(v, "room", json_string(g->room));
	if (g->destination_room[0])
		err |= json_object_set_new(v, "destinationRoom", json_string(g->destination_room));
	if (err) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static json_t *grants_json(const struct api_claims *g)
{
	json_t *o = json_object();
	if (!o || !g)
		return o;
	int err = 0;
	if (g->has_video) {
		json_t *v = video_json(&g->video);
		err |= v ? json_object_set_new(o, "video", v) : -1;
	}
	if (g->has_sip) {
		json_t *s = json_object();
		if (s && g->sip.admin)
			err |= json_object_set_new(s, "admin", json_true());
		if (s && g->sip.call)
			err |= json_object_set_new(s, "call", json_true());
		err |= s ? json_object_set_new(o, "sip", s) : -1;
	}
	if (g->kind[0])
		err |= json_object_set_new(o, "kind", json_string(g->kind));
	if (g->name[0])
		err |= json_object_set_new(o, "name", json_string(g->name));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int api_token_create(const struct api_token_opts *o, char **out)
{
	if (!o->key || !o->key[0] || !o->secret || !o->secret[0])
		return SB_EINVAL;
	jwt_t *jwt = NULL;
	json_t *grants = NULL;
	char *gtext = NULL;
	int err = SB_ENOMEM;
	uint64_t ttl = o->ttl_s ? o->ttl_s : 600;

	if (jwt_new(&jwt))
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)o->secret,
			(int)strlen(o->secret)))
		goto out;
	grants = grants_json(o->grants);
	if (!grants)
		goto out;
	if (json_object_set_new(grants, "iss", json_string(o->key)) ||
	    json_object_set_new(grants, "nbf", json_integer((json_int_t)o->now)) ||
	    json_object_set_new(grants, "exp", json_integer((json_int_t)(o->now + ttl))))
		goto out;
	if (o->identity && o->identity[0] &&
	    json_object_set_new(grants, "sub", json_string(o->identity)))
		goto out;
	if (o->sha256 && json_object_set_new(grants, "sha256", json_string(o->sha256)))
		goto out;
	gtext = json_dumps(grants, JSON_COMPACT);
	if (!gtext || jwt_add_grants_json(jwt, gtext))
		goto out;
	char *t = jwt_encode_str(jwt);
	if (!t)
		goto out;
	*out = t;
	err = 0;
out:
	free(gtext);
	json_decref(grants);
	jwt_free(jwt);
	return err;
}

void api_sha256_b64(struct sb_slice body, char out[45])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (!EVP_Digest(body.p ? body.p : "", body.len, md, &n, EVP_sha256(), NULL) ||
	    n != sizeof(md)) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, md, (int)sizeof(md)); /* 44 chars and a NUL */
}

int api_webhook_sign(const char *key, const char *secret, struct sb_slice body, uint64_t now,
		     char **out)
{
	char hash[45];
	api_sha256_b64(body, hash);
	struct api_token_opts o = {
	    .key = key, .secret = secret, .now = now, .ttl_s = 300, .sha256 = hash};
	return api_token_create(&o, out);
}
