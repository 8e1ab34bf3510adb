/* LiveKit-style access tokens: HS256 JWTs with the API key as `iss` and `video`/`sip` grants.
 * Owns verification, the grant each RPC needs, token creation and the webhook signature. */
#ifndef SB_API_TOKEN_H
#define SB_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

/* exp and nbf are checked with this much slack (LiveKit uses 60 s). */
#define API_TOKEN_LEEWAY_S 60
/* Longest token accepted from a client (an SDK token with grants is well under 1 KiB). */
#define API_TOKEN_MAX_LEN 8192

struct api_key {
	const char *key; /* the `iss` of tokens signed with secret */
	const char *secret;
};

/* The configured API keys; not owned. */
struct api_keyring {
	const struct api_key *keys;
	size_t n;
};

/* The `video` claim; absent keys read false / "". */
struct api_video_grant {
	bool room_create, room_join, room_list, room_record, room_admin;
	bool ingress_admin, can_publish, can_subscribe, can_publish_data;
	bool can_update_own_metadata, hidden, recorder, agent;
	char room[256];
	char destination_room[256];
};

/* The `sip` claim. */
struct api_sip_grant {
	bool admin; /* trunks and dispatch rules */
	bool call;  /* place and transfer calls */
};

struct api_claims {
	char iss[128];	  /* API key */
	char sub[256];	  /* identity ("" for API tokens) */
	char name[256];	  /* display name */
	char kind[32];	  /* participant kind, lower case */
	char sha256[64];  /* webhook body hash (base64) */
	int64_t nbf, exp; /* 0 when absent */
	bool has_video;	  /* a `video` object was present */
	bool has_sip;	  /* a `sip` object was present */
	struct api_video_grant video;
	struct api_sip_grant sip;
};

/* What an RPC needs from the caller's grants (research §2.2). */
enum api_perm {
	API_PERM_NONE,		      /* unknown RPC: nothing is allowed */
	API_PERM_SIP_ADMIN,	      /* sip.admin */
	API_PERM_SIP_CALL,	      /* sip.call */
	API_PERM_SIP_CALL_ROOM_ADMIN, /* sip.call and video.roomAdmin with video.room == room */
	API_PERM_ROOM_CREATE,	      /* video.roomCreate */
	API_PERM_ROOM_LIST,	      /* video.roomList */
	API_PERM_ROOM_ADMIN,	      /* video.roomAdmin with video.room == room */
};

/* "Bearer <token>" (scheme case-insensitive) -> token; SB_EAUTH when absent or another scheme. */
int api_token_bearer(struct sb_slice authorization, struct sb_slice *token);

/*
 * Verify an HS256 token: the key named by `iss` must be in keys and its secret must sign the
 * token; exp/nbf, when present, must hold at now (Unix seconds) within API_TOKEN_LEEWAY_S.
 * Returns 0 and fills out, SB_EMALFORMED (not a JWT, claims of the wrong type) or SB_EAUTH
 * (unknown key, bad signature, wrong algorithm, expired, not yet valid). why gets a short
 * reason for the client either way (may be NULL).
 */
int api_token_verify(const struct api_keyring *keys, struct sb_slice token, uint64_t now,
		     struct api_claims *out, char *why, size_t why_cap);

/* The permission `Service`/`Method` needs, e.g. ("livekit.SIP", "CreateSIPParticipant");
 * API_PERM_NONE for an RPC not in the table. */
enum api_perm api_rpc_perm(struct sb_slice service, struct sb_slice method);
const char *api_perm_name(enum api_perm p);

/* Whether claims grant p; room is the request's room (ignored by permissions without one). */
bool api_perm_check(const struct api_claims *c, enum api_perm p, struct sb_slice room);

struct api_token_opts {
	const char *key, *secret;
	uint64_t now;	      /* Unix seconds: nbf = now, exp = now + ttl_s */
	uint32_t ttl_s;	      /* 0 = 600 s (what ServiceBase uses) */
	const char *identity; /* sub, or NULL */
	const char *sha256;   /* sha256 claim, or NULL */
	const struct api_claims
	    *grants; /* video/sip grants (has_video/has_sip pick them), or NULL */
};

/* A signed token; *out is malloc'd (free() it). 0, SB_EINVAL or SB_ENOMEM. */
int api_token_create(const struct api_token_opts *o, char **out);

/* Standard base64 (with padding) of SHA-256 over body; out needs 45 bytes. */
void api_sha256_b64(struct sb_slice body, char out[45]);

/* The Authorization value (no "Bearer ") of a webhook POST carrying body: a token valid 5
 * minutes whose sha256 claim is the body's hash. *out as api_token_create. */
int api_webhook_sign(const char *key, const char *secret, struct sb_slice body, uint64_t now,
		     char **out);

#endif
