/* Unit tests for src/api/room_service.c: the livekit.RoomService handlers through twirp_serve
 * against a real room service on a media engine; SIP participants are echo participants of
 * kind SIP, and the call manager's hang-up and DTMF are fake hooks that record their calls. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/room_service.h"
#include "base/err.h"

#define NOW	 1700000000u
#define WAIT_MAX 4000
#define MAX_EV	 128

static uint64_t fixed_now(void)
{
	return NOW;
}

struct ev {
	enum room_event_type type;
	char room[64], id[64], topic[64], data[64];
};

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	struct media_engine *engine;
	struct room_service *rs;
	struct twirp_server *ts;
	struct api_room_service *svc;
	struct ev ev[MAX_EV];
	size_t nev;
	char hung[8][64]; /* identities the hang-up hook saw */
	size_t n_hung;
	char dtmf[8][96]; /* "identity:keys" the DTMF hook saw */
	size_t n_dtmf;
	bool closed;
} F;

/* ---- loop and events ---- */

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

static bool run_until(bool (*done)(void *), void *arg)
{
	uint64_t end = uv_hrtime() / 1000000u + WAIT_MAX;
	uv_timer_start(&F.guard, guard_cb, 5, 5);
	while (!done(arg) && uv_hrtime() / 1000000u < end)
		uv_run(&F.loop, UV_RUN_ONCE);
	uv_timer_stop(&F.guard);
	return done(arg);
}

static void on_event(void *arg, const struct room_event *e)
{
	(void)arg;
	assert_true(F.nev < MAX_EV);
	struct ev *v = &F.ev[F.nev++];
	memset(v, 0, sizeof(*v));
	v->type = e->type;
	snprintf(v->room, sizeof(v->room), "%s", e->room ? e->room : "");
	snprintf(v->id, sizeof(v->id), "%s", e->identity ? e->identity : "");
	snprintf(v->topic, sizeof(v->topic), "%s", e->topic ? e->topic : "");
	if (e->data)
		snprintf(v->data, sizeof(v->data), "%.*s", (int)e->data_len, (const char *)e->data);
}

static const struct room_service_handlers handlers = {.event = on_event};

static int count_ev(enum room_event_type type, const char *room, const char *id)
{
	int n = 0;
	for (size_t i = 0; i < F.nev; i++)
		if (F.ev[i].type == type && (!room || !strcmp(F.ev[i].room, room)) &&
		    (!id || !strcmp(F.ev[i].id, id)))
			n++;
	return n;
}

struct want {
	enum room_event_type type;
	const char *room, *id;
	int n;
};

static bool have(void *arg)
{
	const struct want *w = arg;
	return count_ev(w->type, w->room, w->id) >= w->n;
}

static void wait_ev(enum room_event_type type, const char *room, const char *id, int n)
{
	struct want w = {type, room, id, n};
	assert_true(run_until(have, &w));
}

/* ---- fake call manager ---- */

/* A SIP participant named sip_* has a call: record it and make it leave, as the call
 * manager's hang-up does; any other is not a call. */
static int fake_hangup(void *arg, struct room_part *p)
{
	(void)arg;
	const char *id = room_part_identity(p);
	if (strncmp(id, "sip_", 4))
		return SB_ENOTFOUND;
	assert_true(F.n_hung < 8);
	snprintf(F.hung[F.n_hung++], sizeof(F.hung[0]), "%s", id);
	room_part_leave(p);
	return 0;
}

static int fake_dtmf(void *arg, struct room_part *p, const char *keys)
{
	(void)arg;
	assert_true(F.n_dtmf < 8);
	snprintf(F.dtmf[F.n_dtmf++], sizeof(F.dtmf[0]), "%s:%s", room_part_identity(p), keys);
	return 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	assert_int_equal(uv_loop_init(&F.loop), 0);
	uv_timer_init(&F.loop, &F.guard);
	struct media_engine_opts eo = {.control = &F.loop, .workers = 1};
	assert_int_equal(media_engine_new(&F.engine, &eo), 0);
	struct room_service_opts ro = {
	    .loop = &F.loop, .engine = F.engine, .departure_timeout_ms = 100, .h = &handlers};
	assert_int_equal(room_service_new(&F.rs, &ro), 0);
	static const struct api_key k[] = {{"devkey", "secret"}};
	static const struct api_keyring ring = {k, 1};
	struct twirp_opts o = {.keys = &ring, .now = fixed_now};
	assert_int_equal(twirp_new(&F.ts, &o), 0);
	struct api_room_service_opts so = {
	    .rooms = F.rs, .hangup = fake_hangup, .send_dtmf = fake_dtmf};
	assert_int_equal(api_room_service_register(F.ts, &so, &F.svc), 0);
	return 0;
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static bool flag(void *arg)
{
	return *(bool *)arg;
}

static int teardown(void **state)
{
	(void)state;
	twirp_free(F.ts);
	api_room_service_free(F.svc);
	F.closed = false;
	room_service_close(F.rs, on_closed, &F.closed);
	assert_true(run_until(flag, &F.closed));
	F.closed = false;
	media_engine_close(F.engine, on_closed, &F.closed);
	assert_true(run_until(flag, &F.closed));
	uv_close((uv_handle_t *)&F.guard, NULL);
	uv_run(&F.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&F.loop), 0);
	return 0;
}

/* ---- RPC ---- */

/* POST /twirp/livekit.RoomService/<method> with a token granting roomCreate, roomList and
 * roomAdmin for `room`; the parsed body (owned by the caller) and *status. */
static json_t *rpc_as(const char *room, const char *method, const char *body, int *status)
{
	struct api_claims g = {
	    .has_video = true,
	    .video = {.room_create = true, .room_list = true, .room_admin = true}};
	snprintf(g.video.room, sizeof(g.video.room), "%s", room);
	struct api_token_opts to = {.key = "devkey", .secret = "secret", .now = NOW, .grants = &g};
	char *t = NULL, auth[2048], path[128];
	assert_int_equal(api_token_create(&to, &t), 0);
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	free(t);
	snprintf(path, sizeof(path), "/twirp/livekit.RoomService/%s", method);
	struct api_http_req req = {
	    .method = SB_SLICE_LIT("POST"),
	    .path = sb_slice_cstr(path),
	    .content_type = SB_SLICE_LIT("application/json"),
	    .authorization = sb_slice_cstr(auth),
	    .body = sb_slice_cstr(body),
	};
	struct api_http_resp resp = {.status = 200, .content_type = "text/plain"};
	sb_buf_init(&resp.body, NULL, 0);
	twirp_serve(&req, &resp, F.ts);
	*status = resp.status;
	assert_string_equal(resp.content_type, "application/json");
	json_t *j = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	assert_non_null(j);
	sb_buf_free(&resp.body);
	return j;
}

/* The room of the request body, for the token (roomAdmin is per room). */
static json_t *rpc(const char *method, const char *body, int *status)
{
	json_t *b = json_loads(body, 0, NULL);
	const char *room = b ? json_string_value(json_object_get(b, "room")) : NULL;
	char r[128];
	snprintf(r, sizeof(r), "%s", room ? room : "");
	json_decref(b);
	return rpc_as(r, method, body, status);
}

static json_t *ok(const char *method, const char *body)
{
	int status = 0;
	json_t *j = rpc(method, body, &status);
	if (status != 200) {
		char *t = json_dumps(j, 0);
		print_error("%s %s: %d %s\n", method, body, status, t);
		free(t);
	}
	assert_int_equal(status, 200);
	return j;
}

static void expect_err(const char *method, const char *body, int status, const char *code,
		       const char *msg)
{
	int st = 0;
	json_t *j = rpc(method, body, &st);
	assert_int_equal(st, status);
	assert_string_equal(json_string_value(json_object_get(j, "code")), code);
	if (msg)
		assert_string_equal(json_string_value(json_object_get(j, "msg")), msg);
	json_decref(j);
}

static const char *str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (!v)
		print_error("no string %s\n", key);
	assert_non_null(v);
	return v;
}

static json_int_t num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* No null anywhere, no camelCase key (the output convention). */
static void assert_clean(const json_t *j)
{
	assert_false(json_is_null(j));
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
		{
			assert_non_null(v);
			assert_clean(v);
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) assert_clean(v);
	}
}

/* ---- participants ---- */

static struct room_part *join(const char *room, const char *id, enum room_part_kind kind,
			      enum room_media media, const struct room_attr *attrs, size_t n)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = kind;
	j.media = media;
	j.attrs = attrs;
	j.n_attrs = n;
	struct room_part *p = NULL;
	assert_int_equal(room_join(F.rs, &j, &p), 0);
	return p;
}

static const struct room_attr sip_attrs[] = {
    {"sip.callID", "SCL_abc"},
    {"sip.phoneNumber", "+15550001"},
    {"sip.trunkPhoneNumber", "+15550002"},
    {"sip.callStatus", "active"},
};

/* ---- tests ---- */

static void test_rooms(void **state)
{
	(void)state;
	json_t *r = ok("CreateRoom", "{\"name\":\"demo\",\"emptyTimeout\":60,"
				     "\"maxParticipants\":\"5\",\"metadata\":\"hi\"}");
	assert_clean(r);
	assert_memory_equal(str(r, "sid"), "RM_", 3);
	assert_string_equal(str(r, "name"), "demo");
	assert_int_equal(num(r, "empty_timeout"), 60);
	assert_int_equal(num(r, "departure_timeout"), 0);
	assert_int_equal(num(r, "max_participants"), 5);
	assert_int_equal(num(r, "num_participants"), 0);
	assert_string_equal(str(r, "metadata"), "hi");
	assert_true(strlen(str(r, "creation_time")) >= 10);
	assert_true(strlen(str(r, "creation_time_ms")) >= 13);
	assert_true(json_is_array(json_object_get(r, "enabled_codecs")));
	char sid[32];
	snprintf(sid, sizeof(sid), "%s", str(r, "sid"));
	json_decref(r);
	/* again: the same room, updated (snake_case input too) */
	r = ok("CreateRoom", "{\"name\":\"demo\",\"departure_timeout\":9}");
	assert_string_equal(str(r, "sid"), sid);
	assert_int_equal(num(r, "departure_timeout"), 9);
	assert_string_equal(str(r, "metadata"), "hi");
	json_decref(r);
	r = ok("UpdateRoomMetadata", "{\"room\":\"demo\",\"metadata\":\"m2\"}");
	assert_string_equal(str(r, "metadata"), "m2");
	json_decref(r);
	expect_err("UpdateRoomMetadata", "{\"room\":\"nope\",\"metadata\":\"x\"}", 404, "not_found",
		   "requested room does not exist");
	expect_err("CreateRoom", "{}", 400, "invalid_argument", "no room name");
	expect_err("CreateRoom", "{\"name\":\"x\",\"emptyTimeout\":-1}", 400, "malformed", NULL);
	expect_err("CreateRoom", "{\"name\":7}", 400, "malformed", NULL);
	json_decref(ok("CreateRoom", "{\"name\":\"other\"}"));

	struct room_part *s1 = join("demo", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO, NULL, 0);
	(void)join("demo", "echo", ROOM_PART_INTERNAL, ROOM_MEDIA_ECHO, NULL, 0);
	(void)s1;
	wait_ev(ROOM_EV_JOINED, "demo", NULL, 2);

	r = ok("ListRooms", "{}");
	assert_clean(r);
	json_t *rooms = json_object_get(r, "rooms");
	assert_int_equal(json_array_size(rooms), 2);
	assert_string_equal(str(json_array_get(rooms, 0), "name"), "demo"); /* oldest first */
	assert_int_equal(num(json_array_get(rooms, 0), "num_participants"), 2);
	assert_int_equal(num(json_array_get(rooms, 0), "num_publishers"), 2);
	json_decref(r);
	r = ok("ListRooms", "{\"names\":[\"other\",\"nope\",\"other\"]}");
	rooms = json_object_get(r, "rooms");
	assert_int_equal(json_array_size(rooms), 1);
	assert_string_equal(str(json_array_get(rooms, 0), "name"), "other");
	json_decref(r);

	expect_err("DeleteRoom", "{\"room\":\"nope\"}", 404, "not_found",
		   "requested room does not exist");
	r = ok("DeleteRoom", "{\"room\":\"demo\"}");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	/* the SIP participant's call was hung up, the echo just left */
	assert_int_equal(F.n_hung, 1);
	assert_string_equal(F.hung[0], "sip_1");
	r = ok("ListRooms", "{\"names\":[\"demo\"]}");
	assert_int_equal(json_array_size(json_object_get(r, "rooms")), 0);
	json_decref(r);
	wait_ev(ROOM_EV_ROOM_FINISHED, "demo", NULL, 1);
	assert_int_equal(count_ev(ROOM_EV_LEFT, "demo", NULL), 2);
}

static void test_participants(void **state)
{
	(void)state;
	(void)join("call", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO, sip_attrs, 4);
	(void)join("call", "echo", ROOM_PART_INTERNAL, ROOM_MEDIA_ECHO, NULL, 0);
	(void)join("call", "watcher", ROOM_PART_WEB, ROOM_MEDIA_NONE, NULL, 0);
	wait_ev(ROOM_EV_JOINED, "call", NULL, 3);

	json_t *r = ok("ListParticipants", "{\"room\":\"call\"}");
	assert_clean(r);
	json_t *ps = json_object_get(r, "participants");
	assert_int_equal(json_array_size(ps), 3);
	json_t *p = json_array_get(ps, 0);
	assert_string_equal(str(p, "identity"), "sip_1");
	assert_memory_equal(str(p, "sid"), "PA_", 3);
	assert_string_equal(str(p, "kind"), "SIP");
	assert_string_equal(str(p, "state"), "ACTIVE");
	assert_true(json_is_true(json_object_get(p, "is_publisher")));
	assert_true(strlen(str(p, "joined_at")) >= 10);
	assert_true(json_is_object(json_object_get(p, "permission")));
	json_t *a = json_object_get(p, "attributes");
	assert_string_equal(str(a, "sip.callID"), "SCL_abc");
	assert_string_equal(str(a, "sip.phoneNumber"), "+15550001");
	assert_string_equal(str(a, "sip.trunkPhoneNumber"), "+15550002");
	assert_string_equal(str(a, "sip.callStatus"), "active");
	json_t *t = json_array_get(json_object_get(p, "tracks"), 0);
	assert_memory_equal(str(t, "sid"), "TR_", 3);
	assert_string_equal(str(t, "type"), "AUDIO");
	assert_string_equal(str(t, "source"), "MICROPHONE");
	assert_string_equal(str(t, "name"), "sip_1");
	assert_false(json_is_true(json_object_get(t, "muted")));
	char track[32];
	snprintf(track, sizeof(track), "%s", str(t, "sid"));
	assert_string_equal(str(json_array_get(ps, 1), "kind"), "STANDARD");
	json_t *w = json_array_get(ps, 2);
	assert_int_equal(json_array_size(json_object_get(w, "tracks")), 0);
	assert_false(json_is_true(json_object_get(w, "is_publisher")));
	json_decref(r);
	char echo_track[32];
	r = ok("GetParticipant", "{\"room\":\"call\",\"identity\":\"echo\"}");
	snprintf(echo_track, sizeof(echo_track), "%s",
		 str(json_array_get(json_object_get(r, "tracks"), 0), "sid"));
	json_decref(r);

	r = ok("ListParticipants", "{\"room\":\"nope\"}");
	assert_int_equal(json_array_size(json_object_get(r, "participants")), 0);
	json_decref(r);
	expect_err("GetParticipant", "{\"room\":\"call\",\"identity\":\"x\"}", 404, "not_found",
		   "participant does not exist");
	expect_err("RemoveParticipant", "{\"room\":\"nope\",\"identity\":\"sip_1\"}", 404,
		   "not_found", "participant does not exist");

	/* UpdateParticipant: metadata, name, attributes merged (empty deletes) */
	r = ok("UpdateParticipant",
	       "{\"room\":\"call\",\"identity\":\"sip_1\",\"metadata\":\"md\","
	       "\"name\":\"Caller\",\"attributes\":{\"x\":\"1\","
	       "\"sip.callStatus\":\"\"},\"permission\":{\"canPublish\":true}}");
	assert_clean(r);
	assert_string_equal(str(r, "metadata"), "md");
	assert_string_equal(str(r, "name"), "Caller");
	a = json_object_get(r, "attributes");
	assert_string_equal(str(a, "x"), "1");
	assert_null(json_object_get(a, "sip.callStatus"));
	assert_string_equal(str(a, "sip.callID"), "SCL_abc");
	json_int_t v1 = num(r, "version");
	json_decref(r);
	/* empty metadata and name leave them alone */
	r = ok("UpdateParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\"}");
	assert_string_equal(str(r, "metadata"), "md");
	assert_string_equal(str(r, "name"), "Caller");
	json_decref(r);
	expect_err("UpdateParticipant",
		   "{\"room\":\"call\",\"identity\":\"sip_1\",\"attributes\":{\"\":\"v\"}}", 400,
		   "invalid_argument", "attribute size exceeds limits");
	expect_err("UpdateParticipant",
		   "{\"room\":\"call\",\"identity\":\"sip_1\",\"attributes\":{\"k\":1}}", 400,
		   "malformed", NULL);

	/* MutePublishedTrack */
	expect_err("MutePublishedTrack",
		   "{\"room\":\"call\",\"identity\":\"sip_1\",\"trackSid\":\"TR_nope\","
		   "\"muted\":true}",
		   404, "not_found", "track is not found");
	expect_err("MutePublishedTrack",
		   "{\"room\":\"call\",\"identity\":\"watcher\",\"muted\":true}", 404, "not_found",
		   "track is not found");
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"room\":\"call\",\"identity\":\"sip_1\",\"trackSid\":\"%s\",\"muted\":true}",
		 track);
	r = ok("MutePublishedTrack", body);
	assert_clean(r);
	t = json_object_get(r, "track");
	assert_string_equal(str(t, "sid"), track);
	assert_true(json_is_true(json_object_get(t, "muted")));
	json_decref(r);
	r = ok("GetParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\"}");
	t = json_array_get(json_object_get(r, "tracks"), 0);
	assert_true(json_is_true(json_object_get(t, "muted")));
	assert_true(num(r, "version") > v1);
	json_decref(r);

	/* UpdateSubscriptions: by track sid and by participant_tracks */
	snprintf(body, sizeof(body),
		 "{\"room\":\"call\",\"identity\":\"sip_1\",\"trackSids\":[\"%s\",\"TR_x\"]}",
		 echo_track);
	r = ok("UpdateSubscriptions", body);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	r = ok("UpdateSubscriptions",
	       "{\"room\":\"call\",\"identity\":\"sip_1\",\"subscribe\":true,"
	       "\"participant_tracks\":[{\"participant_sid\":\"PA_x\",\"track_sids\":[]}]}");
	json_decref(r);
	expect_err("UpdateSubscriptions", "{\"room\":\"call\",\"identity\":\"x\"}", 404,
		   "not_found", "participant does not exist");

	/* RemoveParticipant: not a call -> just leaves; a SIP participant -> hung up */
	r = ok("RemoveParticipant", "{\"room\":\"call\",\"identity\":\"echo\"}");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	assert_int_equal(F.n_hung, 0);
	r = ok("ListParticipants", "{\"room\":\"call\"}");
	assert_int_equal(json_array_size(json_object_get(r, "participants")), 2);
	json_decref(r);
	expect_err("GetParticipant", "{\"room\":\"call\",\"identity\":\"echo\"}", 404, "not_found",
		   "participant does not exist");
	json_decref(ok("RemoveParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\"}"));
	assert_int_equal(F.n_hung, 1);
	assert_string_equal(F.hung[0], "sip_1");
	wait_ev(ROOM_EV_LEFT, "call", "sip_1", 1);
	wait_ev(ROOM_EV_LEFT, "call", "echo", 1);
	/* a token for another room */
	int st;
	json_t *e =
	    rpc_as("other", "GetParticipant", "{\"room\":\"call\",\"identity\":\"watcher\"}", &st);
	assert_int_equal(st, 401);
	json_decref(e);
}

static void test_send_data(void **state)
{
	(void)state;
	(void)join("r", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO, NULL, 0);
	(void)join("r", "sip_2", ROOM_PART_SIP, ROOM_MEDIA_ECHO, NULL, 0);
	(void)join("r", "web", ROOM_PART_WEB, ROOM_MEDIA_NONE, NULL, 0);
	wait_ev(ROOM_EV_JOINED, "r", NULL, 3);

	/* "hello" and a 16-byte nonce, as the SDK sends them */
	json_decref(ok("SendData", "{\"room\":\"r\",\"data\":\"aGVsbG8=\",\"kind\":\"RELIABLE\","
				   "\"topic\":\"chat\",\"nonce\":\"AAECAwQFBgcICQoLDA0ODw==\"}"));
	wait_ev(ROOM_EV_DATA, "r", NULL, 1);
	for (size_t i = 0; i < F.nev; i++)
		if (F.ev[i].type == ROOM_EV_DATA) {
			assert_string_equal(F.ev[i].topic, "chat");
			assert_string_equal(F.ev[i].data, "hello");
		}
	assert_int_equal(F.n_dtmf, 0);
	expect_err("SendData", "{\"room\":\"r\",\"data\":\"aGVsbG8=\",\"nonce\":\"AAEC\"}", 400,
		   "invalid_argument", "nonce should be 16-bytes or not present");
	expect_err("SendData", "{\"room\":\"nope\",\"data\":\"aGVsbG8=\"}", 404, "not_found",
		   "requested room does not exist");
	expect_err("SendData", "{\"room\":\"r\",\"data\":\"*not base64*\"}", 400, "malformed",
		   NULL);

	/* sip_dtmf as a request member: every SIP participant, not the browser */
	json_decref(ok("SendData", "{\"room\":\"r\",\"sipDtmf\":{\"code\":11}}"));
	assert_int_equal(F.n_dtmf, 2);
	assert_string_equal(F.dtmf[0], "sip_1:#");
	assert_string_equal(F.dtmf[1], "sip_2:#");
	/* a DataPacket's JSON in data ({"sipDtmf":{"code":1,"digit":"5"}}) to one identity:
	 * digit wins over code */
	json_decref(ok("SendData", "{\"room\":\"r\",\"data\":"
				   "\"eyJzaXBEdG1mIjp7ImNvZGUiOjEsImRpZ2l0IjoiNSJ9fQ==\","
				   "\"destinationIdentities\":[\"sip_2\",\"web\"]}"));
	assert_int_equal(F.n_dtmf, 3);
	assert_string_equal(F.dtmf[2], "sip_2:5");
	json_decref(ok("SendData", "{\"room\":\"r\",\"sip_dtmf\":{\"digit\":\"12#\"},"
				   "\"destination_identities\":[\"sip_1\"]}"));
	assert_int_equal(F.n_dtmf, 4);
	assert_string_equal(F.dtmf[3], "sip_1:12#");
	assert_int_equal(count_ev(ROOM_EV_DATA, "r", NULL), 1); /* none of these is user data */
	expect_err("SendData", "{\"room\":\"r\",\"sipDtmf\":{\"digit\":\"x\"}}", 400,
		   "invalid_argument", "invalid DTMF digit");
	expect_err("SendData", "{\"room\":\"r\",\"sipDtmf\":{\"code\":16}}", 400,
		   "invalid_argument", "invalid DTMF code");
	assert_int_equal(F.n_dtmf, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rooms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_participants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_data, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
