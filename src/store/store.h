/* The control plane's persistent state: SIP trunks, dispatch rules and call records.
 * Owns the record structs, the in-memory copy of trunks and rules, and the write queue. */
#ifndef SB_STORE_STORE_H
#define SB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * Threads. Every function here runs on the control loop's thread. Trunks and dispatch rules
 * live in memory: reads answer at once, and a write changes memory at once and is queued to
 * the store's writer thread, which owns the database connection. Call records live only in
 * the database: queries are queued too. Queue order is call order, so a query sees every
 * write made before it. Completion callbacks run on the control loop (uv_async_t); a write
 * that fails is logged and reported to its callback, and memory keeps the new value.
 *
 * Ownership. Every char * in a record is NULL or a malloc'd NUL-terminated string, and NULL
 * reads as "". Records the store hands out (get, list, copy) are deep copies owned by the
 * caller, freed with the matching *_free, and never hold a NULL string. Records passed in are
 * only read; the store keeps its own copy.
 */

struct store;

/* Enum values equal the protobuf numbers of LiveKit's livekit_sip.proto. */
enum store_transport {
	STORE_TRANSPORT_AUTO = 0,
	STORE_TRANSPORT_UDP = 1,
	STORE_TRANSPORT_TCP = 2,
	STORE_TRANSPORT_TLS = 3,
};

enum store_media_encryption {
	STORE_ENCRYPT_DISABLE = 0,
	STORE_ENCRYPT_ALLOW = 1,
	STORE_ENCRYPT_REQUIRE = 2,
};

enum store_header_options {
	STORE_NO_HEADERS = 0,
	STORE_X_HEADERS = 1,
	STORE_ALL_HEADERS = 2,
};

/* The member of SIPDispatchRule's oneof `rule`; NONE only in an unset record. */
enum store_rule_kind {
	STORE_RULE_NONE = 0,
	STORE_RULE_DIRECT = 1,
	STORE_RULE_INDIVIDUAL = 2,
	STORE_RULE_CALLEE = 3,
};

enum store_call_direction {
	STORE_CALL_DIR_UNKNOWN = 0,
	STORE_CALL_INBOUND = 1,
	STORE_CALL_OUTBOUND = 2,
};

/* LiveKit's SIPCallStatus (SCS_*). */
enum store_call_status {
	STORE_CALL_INCOMING = 0,
	STORE_CALL_PARTICIPANT_JOINED = 1,
	STORE_CALL_ACTIVE = 2,
	STORE_CALL_DISCONNECTED = 3,
	STORE_CALL_ERROR = 4,
};

/* Buffer size for store_new_id: prefix + STORE_ID_RANDOM characters + NUL. */
#define STORE_ID_MAX	64
#define STORE_ID_RANDOM 12
#define STORE_TRUNK_PFX "ST_"
#define STORE_RULE_PFX	"SDR_"
#define STORE_CALL_PFX	"SCL_"
#define STORE_DB_NAME	"switchboard.db"

/* A list of strings (repeated string). */
struct store_strv {
	char **v;
	size_t n;
};

/* A map<string,string> in insertion order; keys are unique. */
struct store_pair {
	char *key;
	char *value;
};
struct store_map {
	struct store_pair *v;
	size_t n;
};

/* SIPInboundTrunkInfo. Durations in milliseconds (0 = the default). */
struct store_inbound_trunk {
	char *id; /* ST_... */
	char *name;
	char *metadata;
	struct store_strv numbers;	     /* called numbers served; empty = any */
	struct store_strv allowed_addresses; /* source IPs/CIDRs or hosts; empty = any */
	struct store_strv allowed_numbers;   /* calling numbers allowed; empty = any */
	char *auth_username;
	char *auth_password;
	char *auth_realm;
	struct store_map headers;
	struct store_map headers_to_attributes;
	struct store_map attributes_to_headers;
	enum store_header_options include_headers;
	int64_t ringing_timeout_ms;
	int64_t max_call_duration_ms;
	bool krisp_enabled;
	enum store_media_encryption media_encryption;
	int64_t created_at_ms; /* unix ms, set by the store */
	int64_t updated_at_ms;
};

/* SIPOutboundTrunkInfo. */
struct store_outbound_trunk {
	char *id;
	char *name;
	char *metadata;
	char *address; /* host[:port] */
	char *destination_country;
	enum store_transport transport;
	struct store_strv numbers; /* caller IDs */
	char *auth_username;
	char *auth_password;
	char *from_host;
	struct store_map headers;
	struct store_map headers_to_attributes;
	struct store_map attributes_to_headers;
	enum store_header_options include_headers;
	enum store_media_encryption media_encryption;
	int64_t created_at_ms;
	int64_t updated_at_ms;
};

/* SIPDispatchRule: one of direct {room_name, pin}, individual {room_prefix, pin,
 * no_randomness}, callee {room_prefix, pin, randomize}; unused members stay empty. */
struct store_rule {
	enum store_rule_kind kind;
	char *room_name;
	char *room_prefix;
	char *pin;
	bool randomize;
	bool no_randomness;
};

/* SIPDispatchRuleInfo. */
struct store_dispatch_rule {
	char *id; /* SDR_... */
	struct store_rule rule;
	struct store_strv trunk_ids; /* empty = any trunk */
	bool hide_phone_number;
	struct store_strv inbound_numbers; /* calling numbers; empty = any */
	struct store_strv numbers;	   /* called numbers; empty = any */
	char *name;
	char *metadata;
	struct store_map attributes;
	char *room_preset;
	char *room_config_json; /* RoomConfiguration as JSON text, kept opaque; "" = none */
	bool krisp_enabled;
	enum store_media_encryption media_encryption;
	int64_t created_at_ms;
	int64_t updated_at_ms;
};

/* One transfer attempt of a call and its final outcome. */
struct store_transfer {
	int64_t at_ms; /* unix ms */
	char *target;  /* the Refer-To URI */
	int sip_code;  /* final code from the NOTIFY sipfrag; 0 = none */
	char *reason;  /* its reason phrase or our explanation */
};

/* A call record. Times in unix ms, 0 = not yet. */
struct store_call {
	char *id;	   /* SCL_... */
	char *sip_call_id; /* the SIP Call-ID header */
	char *room_name;
	char *participant_identity;
	enum store_call_direction direction;
	char *from_number;
	char *to_number;
	char *trunk_id;
	char *dispatch_rule_id;
	int64_t started_at_ms;
	int64_t answered_at_ms;
	int64_t ended_at_ms;
	int sip_code; /* final SIP status; 0 = none */
	char *reason; /* its reason text */
	enum store_call_status status;
	struct store_transfer *transfers;
	size_t n_transfers;
};

/* Record helpers. *_free frees the members and zeroes the struct (not the struct itself);
 * NULL is fine. *_copy makes a deep copy into dst with NULL strings turned into "";
 * 0 or SB_ENOMEM (dst then holds nothing to free). */
void store_strv_free(struct store_strv *a);
int store_strv_copy(struct store_strv *dst, const struct store_strv *src);
/* Append a copy of s; 0, SB_EINVAL (s NULL) or SB_ENOMEM. */
int store_strv_push(struct store_strv *a, const char *s);
bool store_strv_contains(const struct store_strv *a, const char *s);
void store_map_free(struct store_map *m);
int store_map_copy(struct store_map *dst, const struct store_map *src);
/* Set key to value (replacing an existing value in place); 0, SB_EINVAL or SB_ENOMEM. */
int store_map_set(struct store_map *m, const char *key, const char *value);
/* The value of key, or NULL. */
const char *store_map_get(const struct store_map *m, const char *key);

void store_inbound_trunk_free(struct store_inbound_trunk *t);
int store_inbound_trunk_copy(struct store_inbound_trunk *dst,
			     const struct store_inbound_trunk *src);
void store_outbound_trunk_free(struct store_outbound_trunk *t);
int store_outbound_trunk_copy(struct store_outbound_trunk *dst,
			      const struct store_outbound_trunk *src);
void store_dispatch_rule_free(struct store_dispatch_rule *r);
int store_dispatch_rule_copy(struct store_dispatch_rule *dst,
			     const struct store_dispatch_rule *src);
void store_transfer_free(struct store_transfer *t);
void store_call_free(struct store_call *c);
int store_call_copy(struct store_call *dst, const struct store_call *src);
/* Append a copy of t to c->transfers; 0 or SB_ENOMEM. */
int store_call_push_transfer(struct store_call *c, const struct store_transfer *t);

/* A fresh ID: prefix + STORE_ID_RANDOM characters of the shortuuid alphabet LiveKit uses
 * (23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz), from the secure random source.
 * out holds STORE_ID_MAX bytes; 0, SB_EINVAL (prefix too long) or SB_EIO. */
int store_new_id(char *out, const char *prefix);

/* A chosen id: prefix, then 1 or more of A-Z a-z 0-9 '_' '-', shorter than STORE_ID_MAX. */
bool store_id_valid(const char *id, const char *prefix);

/* Lifecycle. */
struct store_opts {
	uv_loop_t *loop;     /* the control loop: completion callbacks run there */
	const char *dir;     /* data directory (must exist); the database is dir/switchboard.db */
	const char *backend; /* NULL or "sqlite" (the only one so far) */
	uint32_t busy_timeout_ms; /* how long a write waits for a lock held elsewhere; 0 = 5000 */
	uint32_t queue_max;	  /* queued operations before calls fail with SB_EBUSY; 0 = 65536 */
	char *errbuf;		  /* optional: a one-line reason when store_open fails */
	size_t errbuf_len;
};

/* Open (creating and migrating the database as needed), load trunks and rules and start the
 * writer thread. Blocks: call at start-up. 0 or SB_EINVAL, SB_ENOTFOUND (no such directory),
 * SB_EIO (cannot open, not a database, not writable), SB_EUNSUPPORTED (schema newer than this
 * build, unknown backend), SB_ENOMEM. */
int store_open(struct store **out, const struct store_opts *o);
/* Stop accepting operations, let every queued one land (its callback runs), join the thread
 * without blocking the loop, then free the store and call cb (may be NULL) on the loop. */
void store_close(struct store *s, void (*cb)(void *arg), void *arg);

struct store_stats {
	uint64_t queued;	/* operations waiting or running now */
	uint64_t writes_ok;	/* completed writes */
	uint64_t writes_failed; /* writes that did not land (each logged) */
};
void store_get_stats(struct store *s, struct store_stats *out);

/* Completion of one write: err is 0 or a negative code (SB_EBUSY: database locked elsewhere,
 * SB_ENOTFOUND: the row it refers to is gone, SB_EIO: anything else). */
typedef void (*store_done_cb)(void *arg, int err);

/*
 * Writes. Each returns 0 and later calls cb (may be NULL) exactly once with the database's
 * result, or returns an error at once and never calls cb: SB_EINVAL (bad record), SB_ENOTFOUND
 * (no such ID), SB_EBUSY (queue full), SB_ECLOSED (closing), SB_ENOMEM.
 * create: the record's id must be empty; the store sets id, created_at_ms and updated_at_ms.
 * replace: the whole record with the same id; created_at_ms is kept, updated_at_ms set.
 * out (may be NULL) receives a copy of what was stored.
 */
int store_inbound_trunk_create(struct store *s, const struct store_inbound_trunk *t,
			       struct store_inbound_trunk *out, store_done_cb cb, void *arg);
int store_inbound_trunk_replace(struct store *s, const struct store_inbound_trunk *t,
				struct store_inbound_trunk *out, store_done_cb cb, void *arg);
int store_outbound_trunk_create(struct store *s, const struct store_outbound_trunk *t,
				struct store_outbound_trunk *out, store_done_cb cb, void *arg);
int store_outbound_trunk_replace(struct store *s, const struct store_outbound_trunk *t,
				 struct store_outbound_trunk *out, store_done_cb cb, void *arg);
/* put: create the record under the id it carries, or replace the record with that id
 * (created_at_ms kept), for records whose ids are chosen outside the API (switchboard.yaml).
 * The id must pass store_id_valid with the record's prefix (SB_EINVAL otherwise); SB_EEXISTS
 * when a trunk of the other direction has that id (trunks share the ST_ namespace). */
int store_inbound_trunk_put(struct store *s, const struct store_inbound_trunk *t,
			    struct store_inbound_trunk *out, store_done_cb cb, void *arg);
int store_outbound_trunk_put(struct store *s, const struct store_outbound_trunk *t,
			     struct store_outbound_trunk *out, store_done_cb cb, void *arg);
int store_dispatch_rule_put(struct store *s, const struct store_dispatch_rule *r,
			    struct store_dispatch_rule *out, store_done_cb cb, void *arg);
/* Deletes the inbound or outbound trunk with this id (they share the ST_ namespace). */
int store_trunk_delete(struct store *s, const char *id, store_done_cb cb, void *arg);
/* create and replace need rule.kind set. */
int store_dispatch_rule_create(struct store *s, const struct store_dispatch_rule *r,
			       struct store_dispatch_rule *out, store_done_cb cb, void *arg);
int store_dispatch_rule_replace(struct store *s, const struct store_dispatch_rule *r,
				struct store_dispatch_rule *out, store_done_cb cb, void *arg);
int store_dispatch_rule_delete(struct store *s, const char *id, store_done_cb cb, void *arg);

/* Reads of trunks and rules: synchronous, from memory. get: 0, SB_ENOTFOUND or SB_ENOMEM. */
int store_inbound_trunk_get(struct store *s, const char *id, struct store_inbound_trunk *out);
int store_outbound_trunk_get(struct store *s, const char *id, struct store_outbound_trunk *out);
int store_dispatch_rule_get(struct store *s, const char *id, struct store_dispatch_rule *out);

/* Borrowed views for the call path (no copy): every record sorted by id, valid until the
 * next write through this store. */
const struct store_inbound_trunk *store_inbound_trunks(struct store *s, size_t *n);
const struct store_outbound_trunk *store_outbound_trunks(struct store *s, size_t *n);
const struct store_dispatch_rule *store_dispatch_rules(struct store *s, size_t *n);

/*
 * The filters of LiveKit's List requests. With ids, the result has one slot per requested id
 * in request order; a slot whose id is NULL is an unknown id (the API emits {}), and a known
 * record that fails the other filters is left out; the page is ignored. Without ids, records
 * come sorted by id, those after after_id, at most limit (0 = all), after filtering.
 * numbers (trunks): a record matches when it has no numbers or shares one with the filter.
 * trunk_ids (rules): a rule matches when it has no trunk_ids or shares one with the filter.
 * Fields that do not apply to a record type are ignored.
 */
struct store_filter {
	const char *const *ids;
	size_t n_ids;
	const char *const *numbers;
	size_t n_numbers;
	const char *const *trunk_ids;
	size_t n_trunk_ids;
	const char *after_id;
	uint32_t limit;
};

struct store_inbound_trunk_list {
	struct store_inbound_trunk *v;
	size_t n;
};
struct store_outbound_trunk_list {
	struct store_outbound_trunk *v;
	size_t n;
};
struct store_dispatch_rule_list {
	struct store_dispatch_rule *v;
	size_t n;
};

/* f may be NULL (everything). 0 or SB_ENOMEM (out then empty). */
int store_inbound_trunk_list(struct store *s, const struct store_filter *f,
			     struct store_inbound_trunk_list *out);
int store_outbound_trunk_list(struct store *s, const struct store_filter *f,
			      struct store_outbound_trunk_list *out);
int store_dispatch_rule_list(struct store *s, const struct store_filter *f,
			     struct store_dispatch_rule_list *out);
void store_inbound_trunk_list_free(struct store_inbound_trunk_list *l);
void store_outbound_trunk_list_free(struct store_outbound_trunk_list *l);
void store_dispatch_rule_list_free(struct store_dispatch_rule_list *l);

/* Call records: writes and queries go through the writer thread. */

/* Insert or update the whole record (transfers included) under c->id (required). */
int store_call_put(struct store *s, const struct store_call *c, store_done_cb cb, void *arg);
/* Append one transfer outcome to a stored call; cb gets SB_ENOTFOUND when there is no such
 * call in the database (a put queued before this one counts). */
int store_call_add_transfer(struct store *s, const char *call_id, const struct store_transfer *t,
			    store_done_cb cb, void *arg);

/* Query result: calls[0..n) are valid during the callback only (store_call_copy to keep).
 * err is 0, SB_ENOTFOUND (get of an unknown id, n = 0), SB_ENOMEM or SB_EIO. */
typedef void (*store_calls_cb)(void *arg, int err, const struct store_call *calls, size_t n);

/* Same immediate errors as writes; on 0, cb (required) runs exactly once. */
int store_call_get(struct store *s, const char *id, store_calls_cb cb, void *arg);
/* Most recent first (by started_at_ms, then insertion); limit 0 = 100. */
int store_call_list_recent(struct store *s, uint32_t limit, store_calls_cb cb, void *arg);
int store_call_list_room(struct store *s, const char *room, uint32_t limit, store_calls_cb cb,
			 void *arg);

#endif
