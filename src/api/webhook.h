/* Webhook delivery: LiveKit WebhookEvent JSON POSTed to every configured URL, signed the LiveKit
 * way, from a bounded in-order queue per URL with retries, on the control loop, never blocking. */
#ifndef SB_API_WEBHOOK_H
#define SB_API_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * Wire format (research/livekit-api.md §5). Each event is one `POST <url>` with
 *   Content-Type: application/webhook+json
 *   Authorization: <JWT>      (no "Bearer "): HS256 with the API secret, iss = the API key,
 *                             valid 5 minutes, claim sha256 = base64(SHA-256(body))
 * and the body is protojson of WebhookEvent: lowerCamelCase keys, default values left out,
 * enums as names, int64 as decimal strings. api_webhook_post fills `id` ("EV_" + 12 random
 * characters of the shortuuid alphabet) and `createdAt` (Unix seconds as a string) unless the
 * event has them. The body is serialised once and hashed as sent; every attempt is signed
 * afresh (a retry minutes later still carries a valid token).
 *
 * LiveKit events built here: room_started, room_finished (room), participant_joined,
 * participant_left (room + participant).
 *
 * switchboard's own events carry the room and the participant concerned like LiveKit's
 * participant events, plus one object `switchboard` with the details. LiveKit's
 * WebhookReceiver accepts them (it reads `event` as a plain string and ignores unknown
 * fields); a receiver that wants the details parses the body itself:
 *   x-switchboard-hold      the call was put on hold   {"held":true,"initiator":"remote"}
 *   x-switchboard-resume    the call was taken off hold {"held":false,"initiator":"local"}
 *                           initiator: "remote" (the phone side's re-INVITE) or "local" (API)
 *   x-switchboard-transfer  the final outcome of a transfer of the participant's call
 *                           {"transferTo":"sip:...","success":false,"sipStatusCode":486,
 *                            "sipStatus":"Busy Here","transferId":"STR_..."}
 *                           (transferId only when known; sipStatusCode is a JSON number)
 *   x-switchboard-dtmf      a digit received from the participant's call
 *                           {"digit":"5","code":5,"durationMs":160}
 *                           (code as LiveKit's SipDTMF: 0-9, * = 10, # = 11, A-D = 12-15;
 *                            durationMs only when known)
 *
 * Delivery. One queue per URL holding at most queue_max events (the one in flight included):
 * events to one URL go in order, one request at a time, each retried with exponential
 * back-off until it succeeds (any 2xx), max_attempts is reached or it is older than
 * max_age_ms; then it is given up and the next one goes. A full queue drops its oldest
 * waiting event (logged, counted). URLs are independent: a dead or slow endpoint delays
 * only its own queue. Host names are resolved on libuv's thread pool (uv_getaddrinfo), never
 * on the loop. http:// and https:// (OpenSSL through libwebsockets; the server's certificate
 * and host name are verified against ca_file or the system CA bundle); redirects are not
 * followed (a 3xx is a failure).
 */

#define API_WEBHOOK_ROOM_STARTED       "room_started"
#define API_WEBHOOK_ROOM_FINISHED      "room_finished"
#define API_WEBHOOK_PARTICIPANT_JOINED "participant_joined"
#define API_WEBHOOK_PARTICIPANT_LEFT   "participant_left"
#define API_WEBHOOK_HOLD	       "x-switchboard-hold"
#define API_WEBHOOK_RESUME	       "x-switchboard-resume"
#define API_WEBHOOK_TRANSFER	       "x-switchboard-transfer"
#define API_WEBHOOK_DTMF	       "x-switchboard-dtmf"

#define API_WEBHOOK_MAX_URLS	 16
#define API_WEBHOOK_MAX_URL_LEN	 2048
#define API_WEBHOOK_QUEUE_MAX	 100   /* events per URL (LiveKit's figure) */
#define API_WEBHOOK_TIMEOUT_MS	 10000 /* one attempt: resolve, connect, send, answer */
#define API_WEBHOOK_BACKOFF_MS	 500   /* wait before the first retry, doubled each time */
#define API_WEBHOOK_BACKOFF_MAX	 8000
#define API_WEBHOOK_MAX_ATTEMPTS 5
#define API_WEBHOOK_MAX_AGE_MS	 60000 /* no new attempt for an event older than this */

/* ---- event values (what the builders turn into Room / ParticipantInfo JSON) ---- */

/* livekit.Room (§4.2); NULL strings and zero numbers are left out. */
struct api_webhook_room {
	const char *sid; /* RM_... */
	const char *name;
	const char *metadata;
	uint32_t empty_timeout, departure_timeout; /* seconds */
	uint32_t max_participants;
	uint64_t creation_time_ms; /* Unix ms: creationTime (s) and creationTimeMs */
	uint32_t num_participants, num_publishers;
};

enum api_webhook_part_state {
	API_WEBHOOK_JOINING,
	API_WEBHOOK_JOINED,
	API_WEBHOOK_ACTIVE,
	API_WEBHOOK_DISCONNECTED,
};

/* ParticipantInfo.Kind; the values are LiveKit's. */
enum api_webhook_part_kind {
	API_WEBHOOK_KIND_STANDARD = 0,
	API_WEBHOOK_KIND_INGRESS = 1,
	API_WEBHOOK_KIND_EGRESS = 2,
	API_WEBHOOK_KIND_SIP = 3,
	API_WEBHOOK_KIND_AGENT = 4,
};

/* DisconnectReason; the values are LiveKit's. */
enum api_webhook_disconnect {
	API_WEBHOOK_DR_UNKNOWN = 0,
	API_WEBHOOK_DR_CLIENT_INITIATED = 1,
	API_WEBHOOK_DR_DUPLICATE_IDENTITY = 2,
	API_WEBHOOK_DR_SERVER_SHUTDOWN = 3,
	API_WEBHOOK_DR_PARTICIPANT_REMOVED = 4,
	API_WEBHOOK_DR_ROOM_DELETED = 5,
	API_WEBHOOK_DR_STATE_MISMATCH = 6,
	API_WEBHOOK_DR_JOIN_FAILURE = 7,
	API_WEBHOOK_DR_MIGRATION = 8,
	API_WEBHOOK_DR_SIGNAL_CLOSE = 9,
	API_WEBHOOK_DR_ROOM_CLOSED = 10,
	API_WEBHOOK_DR_USER_UNAVAILABLE = 11,
	API_WEBHOOK_DR_USER_REJECTED = 12,
	API_WEBHOOK_DR_SIP_TRUNK_FAILURE = 13,
	API_WEBHOOK_DR_CONNECTION_TIMEOUT = 14,
	API_WEBHOOK_DR_MEDIA_FAILURE = 15,
	API_WEBHOOK_DR_AGENT_ERROR = 16,
};

struct api_webhook_attr {
	const char *key, *value;
};

/* livekit.ParticipantInfo (§4.3), the fields a gateway knows; tracks are not sent. */
struct api_webhook_participant {
	const char *sid; /* PA_... */
	const char *identity;
	const char *name;
	const char *metadata;
	enum api_webhook_part_state state;
	enum api_webhook_part_kind kind;
	uint64_t joined_at_ms; /* Unix ms: joinedAt (s) and joinedAtMs */
	uint32_t version;
	bool is_publisher;
	enum api_webhook_disconnect disconnect_reason;
	const struct api_webhook_attr *attrs; /* `attributes` map, e.g. sip.callID */
	size_t n_attrs;
};

struct api_webhook_transfer {
	const char *transfer_to; /* the Refer-To target */
	const char *transfer_id; /* STR_..., or NULL */
	int sip_status;		 /* final SIP status of the transfer (200 = success) */
	const char *reason;	 /* its reason phrase, or NULL */
};

/* ---- builders: a new event object, or NULL when out of memory ---- */

/* livekit.Room / livekit.ParticipantInfo as webhook JSON. */
json_t *api_webhook_room_json(const struct api_webhook_room *r);
json_t *api_webhook_participant_json(const struct api_webhook_participant *p);
/* {"event": name, "room": ..., "participant": ...}; room and p may be NULL (left out). */
json_t *api_webhook_event(const char *name, const struct api_webhook_room *room,
			  const struct api_webhook_participant *p);
/* x-switchboard-hold (held) or x-switchboard-resume; by_remote picks the initiator. */
json_t *api_webhook_hold_event(const struct api_webhook_room *room,
			       const struct api_webhook_participant *p, bool held, bool by_remote);
json_t *api_webhook_transfer_event(const struct api_webhook_room *room,
				   const struct api_webhook_participant *p,
				   const struct api_webhook_transfer *t);
/* digit is 0-9, *, #, A-D (a-d are taken as A-D); duration_ms 0 = unknown. NULL also for a
 * digit outside that set. */
json_t *api_webhook_dtmf_event(const struct api_webhook_room *room,
			       const struct api_webhook_participant *p, char digit,
			       uint32_t duration_ms);

/* ---- the notifier ---- */

struct api_webhook_opts {
	uv_loop_t *loop;	 /* the control loop */
	const char *const *urls; /* http:// or https:// URLs, copied */
	size_t n_urls;		 /* 0 .. API_WEBHOOK_MAX_URLS; 0 = events are discarded */
	const char *api_key;	 /* `iss` of the signature, copied */
	const char *api_secret;	 /* copied */
	const char *ca_file;	 /* PEM CAs for https://; NULL = the system bundle */
	/* 0 = the API_WEBHOOK_ defaults */
	size_t queue_max; /* at least 2 */
	uint32_t timeout_ms;
	uint32_t backoff_ms, backoff_max_ms;
	uint32_t max_attempts;
	uint32_t max_age_ms;
};

/* Counters for /metrics (events unless said otherwise). */
struct api_webhook_stats {
	uint64_t posted;	  /* accepted by api_webhook_post (per URL: queued for it) */
	uint64_t sent;		  /* delivered (answered 2xx) */
	uint64_t attempts_failed; /* attempts: connection error, timeout or non-2xx */
	uint64_t given_up;	  /* dropped after max_attempts or max_age_ms */
	uint64_t dropped;	  /* dropped from a full queue */
	uint64_t queued;	  /* waiting or in flight now */
};

struct api_webhook;

/* 0, SB_EINVAL (no loop, no key or secret while there are URLs, a URL that does not parse, too
 * many URLs), SB_ENOMEM or SB_EIO (libwebsockets would not start). Logged. */
int api_webhook_new(struct api_webhook **out, const struct api_webhook_opts *o);
/* Queue event (which must have a string `event`) for every URL; consumes the reference in
 * every case, so a builder's result is passed straight in. 0, SB_ENOMEM (event NULL or no
 * memory), SB_EINVAL (no `event` name) or SB_ECLOSED (closing). Never blocks: a full queue
 * drops its oldest event instead. */
int api_webhook_post(struct api_webhook *n, json_t *event);
/* Totals over every URL, or one URL's (i < api_webhook_url_count). */
void api_webhook_stats(const struct api_webhook *n, struct api_webhook_stats *out);
size_t api_webhook_url_count(const struct api_webhook *n);
void api_webhook_url_stats(const struct api_webhook *n, size_t i, struct api_webhook_stats *out);
/* Stop: abort the requests in flight, drop every queued event (their number is logged), let
 * libwebsockets let go of the loop; cb(arg) runs on the loop once n is freed. */
void api_webhook_close(struct api_webhook *n, void (*cb)(void *arg), void *arg);

#endif
