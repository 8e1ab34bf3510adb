/* The livekit.RoomService handlers: request JSON in, room directory calls (and the call
 * manager's hang-up for SIP participants), Room / ParticipantInfo / TrackInfo JSON out. */
#include "api/room_service.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define SERVICE		      "livekit.RoomService"
#define ROOM_NOT_FOUND	      "requested room does not exist"
#define PARTICIPANT_NOT_FOUND "participant does not exist"
#define TRACK_NOT_FOUND	      "track is not found"
#define NONCE_LEN	      16
#define MAX_TARGETS	      64 /* destinations / subscription changes looked at per request */

struct api_room_service {
	struct room_service *rooms;
	struct call_mgr *calls;
	int (*hangup)(void *arg, struct room_part *p);
	int (*send_dtmf)(void *arg, struct room_part *p, const char *keys);
	void *hook_arg;
};

/* ---- errors ---- */

static int fail(struct twirp_error *e, enum twirp_code code, const char *msg)
{
	twirp_error_set(e, code, "%s", msg);
	return SB_EINVAL;
}

static int malformed(struct twirp_error *e, const char *field, const char *what)
{
	twirp_error_set(e, TWIRP_MALFORMED, "the json request could not be decoded: %s: %s", field,
			what);
	return SB_EMALFORMED;
}

static int nomem(struct twirp_error *e)
{
	twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
	return SB_ENOMEM;
}

/* A room or participant call's own error code. */
static int room_error(struct twirp_error *e, int rc, const char *not_found)
{
	switch (rc) {
	case SB_ENOTFOUND:
		return fail(e, TWIRP_NOT_FOUND, not_found);
	case SB_ENOMEM:
		return nomem(e);
	case SB_EBUSY:
		return fail(e, TWIRP_UNAVAILABLE, "the media worker is busy: try again");
	case SB_ESTATE:
		return fail(e, TWIRP_NOT_FOUND, PARTICIPANT_NOT_FOUND); /* it is leaving */
	default:
		twirp_error_set(e, TWIRP_INTERNAL, "%s", sb_strerror(rc));
		return rc ? rc : SB_EIO;
	}
}

/* ---- request fields: lowerCamelCase or snake_case, null = absent ---- */

static json_t *field(const json_t *o, const char *camel, const char *snake)
{
	json_t *v = json_object_get(o, camel);
	if ((!v || json_is_null(v)) && snake && strcmp(camel, snake))
		v = json_object_get(o, snake);
	return v && !json_is_null(v) ? v : NULL;
}

static int get_str(const json_t *o, const char *camel, const char *snake, const char **out,
		   struct twirp_error *e)
{
	*out = "";
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return malformed(e, camel, "must be a string");
	if (memchr(json_string_value(v), 0, json_string_length(v)))
		return malformed(e, camel, "must not contain NUL");
	*out = json_string_value(v);
	return 0;
}

static int get_bool(const json_t *o, const char *camel, const char *snake, bool *out,
		    struct twirp_error *e)
{
	*out = false;
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return malformed(e, camel, "must be a boolean");
	*out = json_is_true(v);
	return 0;
}

/* uint32: a JSON integer or a decimal string (protojson takes both). */
static int get_u32(const json_t *o, const char *camel, const char *snake, uint32_t *out,
		   struct twirp_error *e)
{
	*out = 0;
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	long long n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
			return malformed(e, camel, "must be an unsigned 32-bit integer");
		n = strtoll(s, &end, 10);
	} else {
		return malformed(e, camel, "must be an unsigned 32-bit integer");
	}
	if (n < 0 || n > (long long)UINT32_MAX)
		return malformed(e, camel, "must be an unsigned 32-bit integer");
	*out = (uint32_t)n;
	return 0;
}

/* repeated string: *out is a malloc'd array of borrowed strings (NULL when empty). */
static int get_strv(const json_t *o, const char *camel, const char *snake, const char ***out,
		    size_t *n, struct twirp_error *e)
{
	*out = NULL;
	*n = 0;
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	if (!json_is_array(v))
		return malformed(e, camel, "must be an array of strings");
	size_t len = json_array_size(v);
	if (!len)
		return 0;
	const char **a = calloc(len, sizeof(*a));
	if (!a)
		return nomem(e);
	for (size_t i = 0; i < len; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s)) {
			free(a);
			return malformed(e, camel, "must be an array of strings");
		}
		a[i] = json_string_value(s);
	}
	*out = a;
	*n = len;
	return 0;
}

/* map<string,string>: *out is a malloc'd array of borrowed pairs (NULL when empty). */
static int get_map(const json_t *o, const char *camel, const char *snake, struct room_attr **out,
		   size_t *n, struct twirp_error *e)
{
	*out = NULL;
	*n = 0;
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	if (!json_is_object(v))
		return malformed(e, camel, "must be an object of strings");
	size_t len = json_object_size(v);
	if (!len)
		return 0;
	struct room_attr *a = calloc(len, sizeof(*a));
	if (!a)
		return nomem(e);
	const char *k;
	json_t *val;
	size_t i = 0;
	json_object_foreach(v, k, val)
	{
		if (!json_is_string(val)) {
			free(a);
			return malformed(e, camel, "must be an object of strings");
		}
		a[i].key = k;
		a[i].value = json_string_value(val);
		i++;
	}
	*out = a;
	*n = i;
	return 0;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* bytes: standard or URL-safe base64, padding optional; *out malloc'd (NULL when empty). */
static int get_bytes(const json_t *o, const char *camel, const char *snake, uint8_t **out,
		     size_t *n, struct twirp_error *e)
{
	*out = NULL;
	*n = 0;
	json_t *v = field(o, camel, snake);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return malformed(e, camel, "must be a base64 string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	while (len && s[len - 1] == '=')
		len--;
	if (!len)
		return 0;
	if (len % 4 == 1)
		return malformed(e, camel, "must be a base64 string");
	uint8_t *b = malloc(len * 3 / 4 + 3);
	if (!b)
		return nomem(e);
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int d = b64_val(s[i]);
		if (d < 0) {
			free(b);
			return malformed(e, camel, "must be a base64 string");
		}
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b[k++] = (uint8_t)(acc >> bits);
		}
	}
	*out = b;
	*n = k;
	return 0;
}

/* The request's room: required and within the directory's limit. */
static int get_room(const json_t *o, const char *camel, const char **out, struct twirp_error *e)
{
	int rc = get_str(o, camel, camel, out, e);
	if (rc)
		return rc;
	if (!(*out)[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no room name");
	if (strlen(*out) >= ROOM_NAME_MAX)
		return fail(e, TWIRP_INVALID_ARGUMENT, "room name length exceeds limits");
	return 0;
}

/* ---- responses ---- */

/* A JSON string even from bytes that are not UTF-8 (a SIP user part may hold any). */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s ? s : "");
	if (v || !s)
		return v;
	char *c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(c);
	free(c);
	return v;
}

static json_t *ju64(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_string(b);
}

static bool put(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) == 0; /* set_new drops v on failure */
}

static json_t *room_json(const struct room_info *ri)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	bool ok = put(o, "sid", jstr(ri->sid));
	ok &= put(o, "name", jstr(ri->name));
	ok &= put(o, "empty_timeout", json_integer(ri->empty_timeout_s));
	ok &= put(o, "departure_timeout", json_integer(ri->departure_timeout_s));
	ok &= put(o, "max_participants", json_integer(ri->max_participants));
	ok &= put(o, "creation_time", ju64(ri->created_unix_ms / 1000u));
	ok &= put(o, "creation_time_ms", ju64(ri->created_unix_ms));
	ok &= put(o, "turn_password", json_string(""));
	ok &= put(o, "enabled_codecs", json_array());
	ok &= put(o, "metadata", jstr(ri->metadata));
	ok &= put(o, "num_participants", json_integer(ri->participants));
	ok &= put(o, "num_publishers", json_integer(ri->publishers));
	ok &= put(o, "active_recording", json_false());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *track_json(const struct room_part_info *pi)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	char mime[32];
	snprintf(mime, sizeof(mime), "audio/%s", pi->codec[0] ? pi->codec : "pcm");
	bool ok = put(o, "sid", jstr(pi->track_sid));
	ok &= put(o, "type", json_string("AUDIO"));
	ok &= put(o, "name", jstr(pi->identity)); /* as LK's SIP bridge names its track */
	ok &= put(o, "muted", json_boolean(pi->muted));
	ok &= put(o, "width", json_integer(0));
	ok &= put(o, "height", json_integer(0));
	ok &= put(o, "simulcast", json_false());
	ok &= put(o, "disable_dtx", json_false());
	ok &= put(o, "source", json_string("MICROPHONE"));
	ok &= put(o, "layers", json_array());
	ok &= put(o, "mime_type", json_string(mime));
	ok &= put(o, "mid", json_string(""));
	ok &= put(o, "codecs", json_array());
	ok &= put(o, "stereo", json_false());
	ok &= put(o, "disable_red", json_false());
	ok &= put(o, "encryption", json_string("NONE"));
	ok &= put(o, "stream", json_string(""));
	ok &= put(o, "audio_features", json_array());
	ok &= put(o, "backup_codec_policy", json_string("PREFER_REGRESSION"));
	ok &= put(o, "packet_trailer_features", json_array());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *kind_name(enum room_part_kind k)
{
	switch (k) {
	case ROOM_PART_SIP:
		return "SIP";
	case ROOM_PART_AGENT:
		return "AGENT";
	default:
		return "STANDARD"; /* browsers and the built-in echo / player */
	}
}

static const char *state_name(enum room_part_state s)
{
	switch (s) {
	case ROOM_PART_JOINING:
		return "JOINING";
	case ROOM_PART_ACTIVE:
		return "ACTIVE";
	default:
		return "DISCONNECTED";
	}
}

static json_t *permission_json(void)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	/* what LK's SIP bridge grants its participants */
	bool ok = put(o, "can_subscribe", json_true());
	ok &= put(o, "can_publish", json_true());
	ok &= put(o, "can_publish_data", json_true());
	ok &= put(o, "can_publish_sources", json_array());
	ok &= put(o, "hidden", json_false());
	ok &= put(o, "recorder", json_false());
	ok &= put(o, "can_update_metadata", json_false());
	ok &= put(o, "agent", json_false());
	ok &= put(o, "can_subscribe_metrics", json_false());
	ok &= put(o, "can_manage_agent_session", json_false());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *part_json(const struct room_part_info *pi)
{
	json_t *o = json_object(), *tracks = json_array(), *attrs = json_object();
	bool ok = o && tracks && attrs;
	if (ok && pi->track_sid[0])
		ok = json_array_append_new(tracks, track_json(pi)) == 0;
	for (size_t i = 0; ok && i < pi->n_attrs; i++)
		ok = json_object_set_new(attrs, pi->attrs[i].key, jstr(pi->attrs[i].value)) == 0;
	if (!ok) {
		json_decref(o);
		json_decref(tracks);
		json_decref(attrs);
		return NULL;
	}
	ok = put(o, "sid", jstr(pi->sid));
	ok &= put(o, "identity", jstr(pi->identity));
	ok &= put(o, "state", json_string(state_name(pi->state)));
	ok &= put(o, "tracks", tracks);
	ok &= put(o, "metadata", jstr(pi->metadata));
	ok &= put(o, "joined_at", ju64(pi->joined_ms / 1000u));
	ok &= put(o, "joined_at_ms", ju64(pi->joined_ms));
	ok &= put(o, "name", jstr(pi->name));
	ok &= put(o, "version", json_integer(pi->version));
	ok &= put(o, "permission", permission_json());
	ok &= put(o, "region", json_string(""));
	ok &= put(o, "is_publisher", json_boolean(pi->track_sid[0] != 0));
	ok &= put(o, "kind", json_string(kind_name(pi->kind)));
	ok &= put(o, "attributes", attrs);
	ok &= put(o, "disconnect_reason", json_string("UNKNOWN_REASON"));
	ok &= put(o, "kind_details", json_array());
	ok &= put(o, "data_tracks", json_array());
	ok &= put(o, "client_protocol", json_integer(0));
	ok &= put(o, "capabilities", json_array());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int answer_room(struct api_room_service *s, const char *name, json_t **resp,
		       struct twirp_error *e)
{
	struct room_info ri;
	if (room_service_get_room(s->rooms, name, &ri))
		return fail(e, TWIRP_NOT_FOUND, ROOM_NOT_FOUND);
	if (!(*resp = room_json(&ri)))
		return nomem(e);
	return 0;
}

static int answer_part(const struct room_part *p, json_t **resp, struct twirp_error *e)
{
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (!(*resp = part_json(&pi)))
		return nomem(e);
	return 0;
}

/* ---- hooks ---- */

/* End what is behind p: its call (a SIP participant) or just its presence in the room. */
static void remove_part(struct api_room_service *s, struct room_part *p)
{
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	int rc = SB_ENOTFOUND;
	if (pi.kind == ROOM_PART_SIP) {
		if (s->hangup)
			rc = s->hangup(s->hook_arg, p);
		else if (s->calls)
			rc = call_mgr_hangup_participant(s->calls, p);
	}
	if (rc)
		room_part_leave(p);
}

static int send_dtmf(struct api_room_service *s, struct room_part *p, const char *keys)
{
	return s->send_dtmf ? s->send_dtmf(s->hook_arg, p, keys) : room_part_send_dtmf(p, keys);
}

/* ---- Rooms ---- */

static int create_room(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct api_room_service *s = arg;
	struct room_create_opts o = {0};
	const char *metadata;
	int rc;
	if ((rc = get_str(call->req, "name", "name", &o.name, e)) ||
	    (rc = get_u32(call->req, "emptyTimeout", "empty_timeout", &o.empty_timeout_s, e)) ||
	    (rc = get_u32(call->req, "departureTimeout", "departure_timeout",
			  &o.departure_timeout_s, e)) ||
	    (rc = get_u32(call->req, "maxParticipants", "max_participants", &o.max_participants,
			  e)) ||
	    (rc = get_str(call->req, "metadata", "metadata", &metadata, e)))
		return rc;
	if (!o.name[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no room name");
	if (strlen(o.name) >= ROOM_NAME_MAX)
		return fail(e, TWIRP_INVALID_ARGUMENT, "room name length exceeds limits");
	if (strlen(metadata) > ROOM_META_MAX)
		return fail(e, TWIRP_INVALID_ARGUMENT, "metadata size exceeds limits");
	o.metadata = metadata[0] ? metadata : NULL; /* LK: an empty metadata leaves it alone */
	bool created = false;
	rc = room_service_create_room(s->rooms, &o, &created);
	if (rc == SB_EINVAL)
		return fail(e, TWIRP_UNAVAILABLE, "shutting down");
	if (rc)
		return room_error(e, rc, ROOM_NOT_FOUND);
	SB_INFO("api", "CreateRoom %s: %s", o.name, created ? "created" : "updated");
	return answer_room(s, o.name, resp, e);
}

struct room_list {
	struct room_info *v;
	size_t n, cap;
	bool oom;
};

static void collect_room(void *arg, const struct room_info *ri)
{
	struct room_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));
		if (!p) {
			l->oom = true;
			return;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *ri;
}

static int room_cmp(const void *a, const void *b)
{
	const struct room_info *x = a, *y = b;
	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int list_rooms(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		      void *arg)
{
	struct api_room_service *s = arg;
	const char **names;
	size_t n_names;
	int rc = get_strv(call->req, "names", "names", &names, &n_names, e);
	if (rc)
		return rc;
	struct room_list l = {0};
	if (n_names) {
		for (size_t i = 0; i < n_names; i++) {
			struct room_info ri;
			bool dup = false;
			for (size_t k = 0; k < i && !dup; k++)
				dup = strcmp(names[k], names[i]) == 0;
			if (!dup && !room_service_get_room(s->rooms, names[i], &ri))
				collect_room(&l, &ri);
		}
	} else {
		room_service_list(s->rooms, collect_room, &l);
	}
	free(names);
	json_t *rooms = json_array(), *o = json_object();
	bool ok = !l.oom && rooms && o;
	if (ok && l.n)
		qsort(l.v, l.n, sizeof(*l.v), room_cmp);
	for (size_t i = 0; ok && i < l.n; i++)
		ok = json_array_append_new(rooms, room_json(&l.v[i])) == 0;
	free(l.v);
	if (!ok || json_object_set_new(o, "rooms", rooms)) {
		if (ok)
			rooms = NULL; /* set_new dropped it */
		json_decref(rooms);
		json_decref(o);
		return nomem(e);
	}
	*resp = o;
	return 0;
}

static void delete_each(void *arg, struct room_part *p)
{
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (pi.state != ROOM_PART_LEAVING)
		remove_part(arg, p);
}

static int delete_room(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	(void)resp;
	struct api_room_service *s = arg;
	const char *room;
	int rc = get_str(call->req, "room", "room", &room, e);
	if (rc)
		return rc;
	struct room_info ri;
	if (!room[0] || room_service_get_room(s->rooms, room, &ri))
		return fail(e, TWIRP_NOT_FOUND, ROOM_NOT_FOUND);
	/* calls first (BYE), then the room takes the rest out and closes once empty */
	size_t n = room_service_each_part(s->rooms, room, delete_each, s);
	room_service_delete_room(s->rooms, room);
	SB_INFO("api", "DeleteRoom %s: %zu participants removed", room, n);
	return 0;
}

static int update_room_metadata(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
				void *arg)
{
	struct api_room_service *s = arg;
	const char *room, *metadata;
	int rc;
	if ((rc = get_room(call->req, "room", &room, e)) ||
	    (rc = get_str(call->req, "metadata", "metadata", &metadata, e)))
		return rc;
	if (strlen(metadata) > ROOM_META_MAX)
		return fail(e, TWIRP_INVALID_ARGUMENT, "metadata size exceeds limits");
	rc = room_service_set_room_metadata(s->rooms, room, metadata);
	if (rc)
		return room_error(e, rc, ROOM_NOT_FOUND);
	return answer_room(s, room, resp, e);
}

/* ---- Participants ---- */

struct part_list {
	json_t *arr;
	bool oom;
};

static void collect_part(void *arg, struct room_part *p)
{
	struct part_list *l = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (l->oom || pi.state == ROOM_PART_LEAVING)
		return; /* removed: no longer listed, as in LK */
	if (json_array_append_new(l->arr, part_json(&pi)))
		l->oom = true;
}

static int list_participants(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			     void *arg)
{
	struct api_room_service *s = arg;
	const char *room;
	int rc = get_str(call->req, "room", "room", &room, e);
	if (rc)
		return rc;
	struct part_list l = {.arr = json_array()};
	json_t *o = json_object();
	if (!l.arr || !o)
		goto oom;
	if (room[0])
		room_service_each_part(s->rooms, room, collect_part, &l);
	if (l.oom)
		goto oom;
	if (json_object_set_new(o, "participants", l.arr)) {
		l.arr = NULL;
		goto oom;
	}
	*resp = o;
	return 0;
oom:
	json_decref(l.arr);
	json_decref(o);
	return nomem(e);
}

/* {room, identity} -> the participant, or not_found. */
static int find_part(struct api_room_service *s, const json_t *req, struct room_part **out,
		     struct twirp_error *e)
{
	const char *room, *identity;
	int rc;
	if ((rc = get_str(req, "room", "room", &room, e)) ||
	    (rc = get_str(req, "identity", "identity", &identity, e)))
		return rc;
	*out = room[0] && identity[0] ? room_service_find_part(s->rooms, room, identity) : NULL;
	return *out ? 0 : fail(e, TWIRP_NOT_FOUND, PARTICIPANT_NOT_FOUND);
}

static int get_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			   void *arg)
{
	struct room_part *p;
	int rc = find_part(arg, call->req, &p, e);
	return rc ? rc : answer_part(p, resp, e);
}

static int remove_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			      void *arg)
{
	(void)resp;
	struct api_room_service *s = arg;
	struct room_part *p;
	int rc = find_part(s, call->req, &p, e);
	if (rc)
		return rc;
	SB_INFO("api", "RemoveParticipant %s from %s", room_part_identity(p), room_part_room(p));
	remove_part(s, p);
	return 0;
}

static int update_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			      void *arg)
{
	struct api_room_service *s = arg;
	struct room_part *p;
	const char *metadata, *name;
	struct room_attr *attrs = NULL;
	size_t n_attrs = 0;
	int rc;
	if ((rc = get_str(call->req, "metadata", "metadata", &metadata, e)) ||
	    (rc = get_str(call->req, "name", "name", &name, e)) ||
	    (rc = get_map(call->req, "attributes", "attributes", &attrs, &n_attrs, e)))
		return rc;
	if ((rc = find_part(s, call->req, &p, e)))
		goto out;
	if (strlen(metadata) > ROOM_META_MAX) {
		rc = fail(e, TWIRP_INVALID_ARGUMENT, "metadata size exceeds limits");
		goto out;
	}
	if (strlen(name) > ROOM_ATTR_MAX) {
		rc = fail(e, TWIRP_INVALID_ARGUMENT, "name length exceeds limits");
		goto out;
	}
	/* attributes first: the only change that can be refused as a whole */
	rc = room_part_update_attrs(p, attrs, n_attrs);
	if (rc == SB_EINVAL || rc == SB_ETOOBIG) {
		rc = fail(e, TWIRP_INVALID_ARGUMENT, "attribute size exceeds limits");
		goto out;
	}
	if (!rc && metadata[0])
		rc = room_part_set_metadata(p, metadata);
	if (!rc && name[0])
		rc = room_part_set_name(p, name);
	if (rc) {
		rc = room_error(e, rc, PARTICIPANT_NOT_FOUND);
		goto out;
	}
	rc = answer_part(p, resp, e);
out:
	free(attrs);
	return rc;
}

static int mute_published_track(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
				void *arg)
{
	struct api_room_service *s = arg;
	struct room_part *p;
	const char *track;
	bool muted;
	int rc;
	if ((rc = get_str(call->req, "trackSid", "track_sid", &track, e)) ||
	    (rc = get_bool(call->req, "muted", "muted", &muted, e)) ||
	    (rc = find_part(s, call->req, &p, e)))
		return rc;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (!pi.track_sid[0] || (track[0] && strcmp(track, pi.track_sid)))
		return fail(e, TWIRP_NOT_FOUND, TRACK_NOT_FOUND);
	room_part_set_mute(p, muted);
	room_part_get_info(p, &pi);
	json_t *o = json_object();
	if (!o || json_object_set_new(o, "track", track_json(&pi))) {
		json_decref(o);
		return nomem(e);
	}
	*resp = o;
	return 0;
}

/* Tracks named by an UpdateSubscriptions request -> their participants' identities. */
struct subs_ctx {
	const char **tracks; /* track_sids */
	size_t n_tracks;
	const json_t *ptracks; /* participant_tracks[] */
	const char *ids[MAX_TARGETS];
	size_t n_ids;
	const struct room_part *self;
};

static bool in_list(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void subs_each(void *arg, struct room_part *p)
{
	struct subs_ctx *c = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (p == c->self || !pi.track_sid[0] || c->n_ids == MAX_TARGETS)
		return;
	bool named = in_list(c->tracks, c->n_tracks, pi.track_sid);
	size_t i;
	json_t *pt;
	json_array_foreach(c->ptracks, i, pt)
	{
		json_t *sid = field(pt, "participantSid", "participant_sid");
		json_t *tr = field(pt, "trackSids", "track_sids");
		size_t k;
		json_t *t;
		if (!json_is_string(sid) || strcmp(json_string_value(sid), pi.sid))
			continue;
		json_array_foreach(tr, k, t)
		{
			if (json_is_string(t) && !strcmp(json_string_value(t), pi.track_sid))
				named = true;
		}
	}
	if (named)
		c->ids[c->n_ids++] = pi.identity;
}

static int update_subscriptions(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
				void *arg)
{
	(void)resp;
	struct api_room_service *s = arg;
	struct room_part *p;
	struct subs_ctx c = {0};
	bool subscribe;
	int rc;
	if ((rc = get_strv(call->req, "trackSids", "track_sids", &c.tracks, &c.n_tracks, e)))
		return rc;
	if ((rc = get_bool(call->req, "subscribe", "subscribe", &subscribe, e)) ||
	    (rc = find_part(s, call->req, &p, e)))
		goto out;
	c.ptracks = field(call->req, "participantTracks", "participant_tracks");
	if (c.ptracks && !json_is_array(c.ptracks)) {
		rc = malformed(e, "participantTracks", "must be an array");
		goto out;
	}
	c.self = p;
	room_service_each_part(s->rooms, room_part_room(p), subs_each, &c);
	rc = c.n_ids ? room_part_update_subscriptions(p, c.ids, c.n_ids, subscribe) : 0;
	if (rc == SB_ETOOBIG)
		rc = fail(e, TWIRP_INVALID_ARGUMENT,
			  "too many selective subscriptions (at most 8 exceptions)");
	else if (rc)
		rc = room_error(e, rc, PARTICIPANT_NOT_FOUND);
out:
	free(c.tracks);
	return rc;
}

/* ---- SendData ---- */

/* SipDTMF {code, digit} -> keys for room_part_send_dtmf; SB_EINVAL when unusable. */
static int dtmf_keys(const json_t *d, char *keys, size_t cap, struct twirp_error *e)
{
	const char *digit;
	uint32_t code;
	int rc;
	if (!json_is_object(d))
		return malformed(e, "sipDtmf", "must be an object");
	if ((rc = get_str(d, "digit", "digit", &digit, e)) ||
	    (rc = get_u32(d, "code", "code", &code, e)))
		return rc;
	if (digit[0]) {
		if (strlen(digit) >= cap ||
		    strspn(digit, "0123456789*#ABCDabcdwW") != strlen(digit))
			return fail(e, TWIRP_INVALID_ARGUMENT, "invalid DTMF digit");
		snprintf(keys, cap, "%s", digit);
		return 0;
	}
	static const char codes[] = "0123456789*#ABCD";
	if (code >= sizeof(codes) - 1)
		return fail(e, TWIRP_INVALID_ARGUMENT, "invalid DTMF code");
	keys[0] = codes[code];
	keys[1] = '\0';
	return 0;
}

/* data holding the JSON of a DataPacket whose only member is sip_dtmf: that member. */
static json_t *data_dtmf(const uint8_t *data, size_t len)
{
	if (!len || data[0] != '{')
		return NULL;
	json_t *o = json_loadb((const char *)data, len, 0, NULL);
	json_t *d =
	    json_is_object(o) && json_object_size(o) == 1 ? field(o, "sipDtmf", "sip_dtmf") : NULL;
	if (d)
		json_incref(d);
	json_decref(o);
	return d;
}

struct dtmf_ctx {
	struct api_room_service *s;
	const char *keys;
	const char *const *ids; /* destination identities (NULL = every SIP participant) */
	size_t n_ids;
	const char *const *sids;
	size_t n_sids;
	size_t sent;
	int err;
};

static void dtmf_each(void *arg, struct room_part *p)
{
	struct dtmf_ctx *c = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (pi.kind != ROOM_PART_SIP || pi.state == ROOM_PART_LEAVING)
		return;
	if ((c->n_ids || c->n_sids) && !in_list(c->ids, c->n_ids, pi.identity) &&
	    !in_list(c->sids, c->n_sids, pi.sid))
		return;
	int rc = send_dtmf(c->s, p, c->keys);
	if (rc)
		c->err = rc;
	else
		c->sent++;
}

/* destination_sids -> identities, appended to ids (at most MAX_TARGETS in all). */
struct sid_ctx {
	const char *const *sids;
	size_t n_sids;
	const char **ids;
	size_t n_ids;
};

static void sid_each(void *arg, struct room_part *p)
{
	struct sid_ctx *c = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (c->n_ids < MAX_TARGETS && in_list(c->sids, c->n_sids, pi.sid))
		c->ids[c->n_ids++] = pi.identity;
}

static int send_data(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)resp;
	struct api_room_service *s = arg;
	const char *room, *topic;
	const char **ids = NULL, **sids = NULL;
	size_t n_ids = 0, n_sids = 0, n_data = 0, n_nonce = 0;
	uint8_t *data = NULL, *nonce = NULL;
	json_t *dtmf = NULL;
	int rc;
	if ((rc = get_str(call->req, "room", "room", &room, e)) ||
	    (rc = get_str(call->req, "topic", "topic", &topic, e)) ||
	    (rc = get_strv(call->req, "destinationIdentities", "destination_identities", &ids,
			   &n_ids, e)) ||
	    (rc = get_strv(call->req, "destinationSids", "destination_sids", &sids, &n_sids, e)) ||
	    (rc = get_bytes(call->req, "data", "data", &data, &n_data, e)) ||
	    (rc = get_bytes(call->req, "nonce", "nonce", &nonce, &n_nonce, e)))
		goto out;
	if (n_nonce && n_nonce != NONCE_LEN) {
		rc = fail(e, TWIRP_INVALID_ARGUMENT, "nonce should be 16-bytes or not present");
		goto out;
	}
	struct room_info ri;
	if (!room[0] || room_service_get_room(s->rooms, room, &ri)) {
		rc = fail(e, TWIRP_NOT_FOUND, ROOM_NOT_FOUND);
		goto out;
	}
	dtmf = field(call->req, "sipDtmf", "sip_dtmf");
	if (dtmf)
		json_incref(dtmf);
	else
		dtmf = data_dtmf(data, n_data);
	if (dtmf) {
		char keys[64];
		if ((rc = dtmf_keys(dtmf, keys, sizeof(keys), e)))
			goto out;
		struct dtmf_ctx c = {.s = s,
				     .keys = keys,
				     .ids = ids,
				     .n_ids = n_ids,
				     .sids = sids,
				     .n_sids = n_sids};
		room_service_each_part(s->rooms, room, dtmf_each, &c);
		SB_INFO("api", "SendData sip_dtmf '%s' to %zu SIP participants of %s", keys, c.sent,
			room);
		if (c.err && !c.sent)
			rc = room_error(e, c.err, PARTICIPANT_NOT_FOUND);
		goto out;
	}
	/* every destination by identity (sids looked up in the room) */
	const char *to[MAX_TARGETS];
	struct sid_ctx sc = {.sids = sids, .n_sids = n_sids, .ids = to};
	for (size_t i = 0; i < n_ids && sc.n_ids < MAX_TARGETS; i++)
		to[sc.n_ids++] = ids[i];
	if (n_sids)
		room_service_each_part(s->rooms, room, sid_each, &sc);
	rc = room_send_data(s->rooms, room, NULL, topic[0] ? topic : NULL, data, n_data, to,
			    sc.n_ids);
	if (rc == SB_ETOOBIG)
		rc = fail(e, TWIRP_INVALID_ARGUMENT, "data size exceeds limits");
	else if (rc)
		rc = room_error(e, rc, ROOM_NOT_FOUND);
out:
	json_decref(dtmf);
	free(ids);
	free(sids);
	free(data);
	free(nonce);
	return rc;
}

/* ---- registration ---- */

int api_room_service_register(struct twirp_server *tw, const struct api_room_service_opts *o,
			      struct api_room_service **out)
{
	if (!tw || !o || !o->rooms || !out)
		return SB_EINVAL;
	struct api_room_service *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->rooms = o->rooms;
	s->calls = o->calls;
	s->hangup = o->hangup;
	s->send_dtmf = o->send_dtmf;
	s->hook_arg = o->hook_arg;
	*out = s;
	static const struct {
		const char *method;
		twirp_fn fn;
	} methods[] = {
	    {"CreateRoom", create_room},
	    {"ListRooms", list_rooms},
	    {"DeleteRoom", delete_room},
	    {"ListParticipants", list_participants},
	    {"GetParticipant", get_participant},
	    {"RemoveParticipant", remove_participant},
	    {"UpdateParticipant", update_participant},
	    {"MutePublishedTrack", mute_published_track},
	    {"UpdateSubscriptions", update_subscriptions},
	    {"SendData", send_data},
	    {"UpdateRoomMetadata", update_room_metadata},
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct twirp_method m = {
		    .service = SERVICE, .method = methods[i].method, .fn = methods[i].fn, .arg = s};
		int rc = twirp_register(tw, &m);
		if (rc)
			return rc;
	}
	return 0;
}

void api_room_service_free(struct api_room_service *s)
{
	free(s);
}
