/* Unit tests for src/room/room.c on a real media engine: echo, player and RTP leg participants
 * (test sockets as the far ends), mix-minus by Goertzel, events, lifecycle, mute/hold/subscribe. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "media/codec.h"
#include "media/dtmf.h"
#include "room/room.h"
#include "rtp/packet.h"
#include "rtp/sock.h"

#define PEER_RATE  8000 /* the test peers speak PCMU */
#define PEER_FRAME 160
#define WB_RATE	   16000 /* ... or G.722 (peer_wideband) */
#define G722_PT	   9
#define CAP_MAX	   (PEER_RATE * 4)
#define AMP	   6000.0
#define TE_PT	   101
#define WAIT_MAX   4000 /* ms: upper bound of any one wait */
#define MAX_EVENTS 256
#define N_PEERS	   3

/* A far end: a plain UDP socket on the control loop that sends a PCMU tone every 20 ms and
 * decodes what it receives. */
struct peer {
	int fd;
	struct sockaddr_in addr;   /* its own */
	struct sockaddr_in remote; /* the leg's socket */
	uv_poll_t poll;
	uv_timer_t timer;
	bool open, sending;
	double tone_hz;
	uint64_t phase;
	uint16_t seq;
	uint32_t ts;
	int16_t cap[CAP_MAX];
	size_t ncap;
	uint64_t rx_audio, rx_te;
	/* a G.722 peer (wideband: 16 kHz audio); NULL = PCMU */
	struct media_codec *enc, *dec;
};

struct event {
	enum room_event_type type;
	char room[64], id[64];
	void *arg;
	char digit;
	enum media_leg_timeout timeout;
	int err;
	uint64_t at;
};

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	struct media_engine *engine;
	struct room_service *rs;
	struct event ev[MAX_EVENTS];
	size_t nev;
	int rs_closed, engine_closed;
	struct peer peer[N_PEERS];
} W;

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static double goertzel_amp(const int16_t *x, size_t n, double f, uint32_t rate)
{
	double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return n ? 2.0 * sqrt(p) / (double)n : 0;
}

/* ---- loop ---- */

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

static bool run_until(bool (*done)(void *arg), void *arg, uint64_t max_ms)
{
	uint64_t end = now_ms() + max_ms;
	uv_timer_start(&W.guard, guard_cb, 5, 5);
	while (!(done && done(arg)) && now_ms() < end)
		uv_run(&W.loop, UV_RUN_ONCE);
	uv_timer_stop(&W.guard);
	return done && done(arg);
}

static void run_for(uint64_t ms)
{
	(void)run_until(NULL, NULL, ms);
}

/* ---- events ---- */

static void on_event(void *arg, const struct room_event *e)
{
	(void)arg;
	assert_true(W.nev < MAX_EVENTS);
	struct event *v = &W.ev[W.nev++];
	memset(v, 0, sizeof(*v));
	v->type = e->type;
	snprintf(v->room, sizeof(v->room), "%s", e->room ? e->room : "");
	snprintf(v->id, sizeof(v->id), "%s", e->identity ? e->identity : "");
	v->arg = e->part_arg;
	v->digit = e->digit;
	v->timeout = e->timeout;
	v->err = e->err;
	v->at = now_ms();
}

static const struct room_service_handlers handlers = {.event = on_event};

/* Index of the first event of type for room/identity (NULL = any) from `from`, or -1. */
static int find_ev(size_t from, enum room_event_type type, const char *room, const char *id)
{
	for (size_t i = from; i < W.nev; i++)
		if (W.ev[i].type == type && (!room || strcmp(W.ev[i].room, room) == 0) &&
		    (!id || strcmp(W.ev[i].id, id) == 0))
			return (int)i;
	return -1;
}

static int count_ev(enum room_event_type type, const char *room, const char *id)
{
	int n = 0;
	for (size_t i = 0; i < W.nev; i++)
		if (W.ev[i].type == type && (!room || strcmp(W.ev[i].room, room) == 0) &&
		    (!id || strcmp(W.ev[i].id, id) == 0))
			n++;
	return n;
}

struct ev_want {
	enum room_event_type type;
	const char *room, *id;
	int n;
};

static bool have_ev(void *arg)
{
	const struct ev_want *w = arg;
	return count_ev(w->type, w->room, w->id) >= w->n;
}

static void wait_ev(enum room_event_type type, const char *room, const char *id, int n)
{
	struct ev_want w = {type, room, id, n};
	assert_true(run_until(have_ev, &w, WAIT_MAX));
}

/* ---- peers ---- */

static void peer_on_readable(uv_poll_t *h, int status, int events)
{
	struct peer *p = h->data;
	if (status < 0 || !(events & UV_READABLE))
		return;
	uint8_t buf[2048];
	ssize_t n;
	while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct rtp_hdr hdr;
		if (rtp_is_rtcp(buf, (size_t)n) || rtp_parse(buf, (size_t)n, &hdr))
			continue;
		if (hdr.pt == TE_PT) {
			p->rx_te++;
			continue;
		}
		if (hdr.pt != (p->dec ? G722_PT : 0))
			continue;
		p->rx_audio++;
		if (p->dec) {
			int got = media_codec_decode(p->dec, hdr.payload, hdr.payload_len,
						     p->cap + p->ncap, CAP_MAX - p->ncap);
			if (got > 0)
				p->ncap += (size_t)got;
			continue;
		}
		for (size_t i = 0; i < hdr.payload_len && p->ncap < CAP_MAX; i++)
			p->cap[p->ncap++] = media_ulaw_decode(hdr.payload[i]);
	}
}

static void peer_send(struct peer *p, uint8_t pt, bool marker, uint32_t ts, const uint8_t *pl,
		      size_t len)
{
	uint8_t pkt[12 + 512];
	size_t hl = rtp_write_header(pkt, sizeof(pkt), pt, marker, p->seq++, ts,
				     0xabc00000u + (uint32_t)p->fd);
	memcpy(pkt + hl, pl, len);
	(void)sendto(p->fd, pkt, hl + len, 0, (const struct sockaddr *)&p->remote,
		     sizeof(p->remote));
}

static void peer_on_timer(uv_timer_t *t)
{
	struct peer *p = t->data;
	if (!p->sending)
		return;
	if (p->enc) {
		int16_t pcm[WB_RATE / 50];
		uint8_t wb[WB_RATE / 50];
		for (size_t i = 0; i < WB_RATE / 50; i++, p->phase++)
			pcm[i] = (int16_t)lrint(
			    AMP * sin(2.0 * M_PI * p->tone_hz * (double)p->phase / WB_RATE));
		int n = media_codec_encode(p->enc, pcm, WB_RATE / 50, wb, sizeof(wb));
		assert_true(n > 0);
		peer_send(p, G722_PT, false, p->ts, wb, (size_t)n);
		p->ts += PEER_FRAME; /* G.722's RTP clock is 8 kHz */
		return;
	}
	uint8_t pl[PEER_FRAME];
	for (size_t i = 0; i < PEER_FRAME; i++, p->phase++) {
		double v = p->tone_hz > 0
			       ? AMP * sin(2.0 * M_PI * p->tone_hz * (double)p->phase / PEER_RATE)
			       : 0;
		pl[i] = media_ulaw_encode((int16_t)lrint(v));
	}
	peer_send(p, 0, false, p->ts, pl, sizeof(pl));
	p->ts += PEER_FRAME;
}

static void peer_open(struct peer *p, double tone_hz)
{
	memset(p, 0, sizeof(*p));
	p->fd = rtp_sock_bind("127.0.0.1", 0);
	assert_true(p->fd >= 0);
	socklen_t len = sizeof(p->addr);
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&p->addr, &len), 0);
	p->tone_hz = tone_hz;
	p->seq = 1000;
	p->ts = 4242;
	assert_int_equal(uv_poll_init(&W.loop, &p->poll, p->fd), 0);
	p->poll.data = p;
	uv_poll_start(&p->poll, UV_READABLE, peer_on_readable);
	uv_timer_init(&W.loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, peer_on_timer, 20, 20);
	p->open = true;
}

/* A G.722 far end instead of PCMU. */
static void peer_wideband(struct peer *p)
{
	assert_int_equal(media_codec_new(&p->enc, MEDIA_CODEC_G722, NULL), 0);
	assert_int_equal(media_codec_new(&p->dec, MEDIA_CODEC_G722, NULL), 0);
}

static void peer_close(struct peer *p)
{
	media_codec_free(p->enc);
	media_codec_free(p->dec);
	p->enc = p->dec = NULL;
	if (!p->open)
		return;
	p->open = false;
	uv_close((uv_handle_t *)&p->poll, NULL);
	uv_close((uv_handle_t *)&p->timer, NULL);
}

/* A DTMF key as a far end sends it: three updates and three end packets, one timestamp. */
static void peer_send_key(struct peer *p, char key)
{
	uint32_t ts = p->ts;
	for (int k = 1; k <= 6; k++) {
		struct media_dtmf_event e = {.event = (uint8_t)media_dtmf_char_event(key),
					     .end = k > 3,
					     .volume = 10,
					     .duration = (uint16_t)(160 * (k > 3 ? 4 : k))};
		uint8_t pl[4];
		assert_int_equal(media_dtmf_event_write(pl, sizeof(pl), &e), 4);
		peer_send(p, TE_PT, k == 1, ts, pl, sizeof(pl));
	}
}

static double heard(const struct peer *p, double f)
{
	return goertzel_amp(p->cap, p->ncap, f, p->dec ? WB_RATE : PEER_RATE);
}

/* Lets a change reach the media (settle), then records ms of what every peer hears. */
static void listen_peers(uint64_t settle_ms, uint64_t ms)
{
	run_for(settle_ms);
	for (int i = 0; i < N_PEERS; i++)
		W.peer[i].ncap = 0;
	run_for(ms);
}

/* present: clearly there (the tones are AMP loud); absent: nowhere above the noise, in at
 * least 0.15 s of audio (a peer that hears nothing at all is checked with ncap == 0) */
#define assert_hears(p, f) assert_true(heard(p, f) > AMP * 0.4)
#define assert_not_hears(p, f)                                                                     \
	do {                                                                                       \
		assert_true((p)->ncap >= PEER_RATE * 15 / 100);                                    \
		assert_true(heard(p, f) < AMP * 0.04);                                             \
	} while (0)

/* ---- participants ---- */

static struct room_join leg_join(const char *room, const char *id, struct peer *p)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = ROOM_PART_SIP;
	j.media = ROOM_MEDIA_LEG;
	struct sockaddr_in la;
	int fd = rtp_sock_bind("127.0.0.1", 0);
	assert_true(fd >= 0);
	socklen_t len = sizeof(la);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&la, &len), 0);
	p->remote = la;
	j.leg.rtp_fd = fd;
	j.leg.rtcp_fd = -1;
	memcpy(&j.leg.remote, &p->addr, sizeof(p->addr));
	j.leg.remote_len = sizeof(p->addr);
	j.leg.codec = p->enc ? MEDIA_CODEC_G722 : MEDIA_CODEC_PCMU;
	j.leg.pt = p->enc ? G722_PT : 0;
	j.leg.te_pt = TE_PT;
	j.leg.codec_o.complexity = -1;
	j.leg.srtp = RTP_SRTP_NONE;
	j.arg = p;
	return j;
}

static struct room_join player_join(const char *room, const char *id, double hz, uint32_t rate)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = ROOM_PART_INTERNAL;
	j.media = ROOM_MEDIA_PLAYER;
	j.wav.rate = rate;
	j.wav.n = rate; /* 1 s: a whole number of periods, so the loop is seamless */
	j.wav.pcm = malloc(j.wav.n * sizeof(int16_t));
	assert_non_null(j.wav.pcm);
	for (size_t i = 0; i < j.wav.n; i++)
		j.wav.pcm[i] = (int16_t)lrint(AMP * sin(2.0 * M_PI * hz * (double)i / rate));
	j.loop = true;
	return j;
}

static struct room_join echo_join(const char *room, const char *id)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = ROOM_PART_INTERNAL;
	j.media = ROOM_MEDIA_ECHO;
	return j;
}

static struct room_part *join_ok(const struct room_join *j)
{
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, j, &p), 0);
	assert_non_null(p);
	return p;
}

struct rate_want {
	const char *room;
	uint32_t rate;
};

static bool room_rate_is(void *arg)
{
	const struct rate_want *w = arg;
	struct room_info ri;
	return room_service_get_room(W.rs, w->room, &ri) == 0 && ri.rate == w->rate;
}

/* The room mixes at rate (as its worker reports it). */
static void wait_rate(const char *room, uint32_t rate)
{
	struct rate_want w = {room, rate};
	if (!run_until(room_rate_is, &w, WAIT_MAX)) {
		struct room_info ri = {0};
		(void)room_service_get_room(W.rs, room, &ri);
		print_message("room %s mixes at %u, not %u\n", room, (unsigned)ri.rate,
			      (unsigned)rate);
		fail();
	}
}

/* ---- service ---- */

static void on_rs_closed(void *arg)
{
	(void)arg;
	W.rs_closed++;
}

static void on_engine_closed(void *arg)
{
	(void)arg;
	W.engine_closed++;
}

static bool flag_set(void *arg)
{
	return *(int *)arg > 0;
}

static void service_start(unsigned workers, uint32_t departure_ms, uint32_t queue_len)
{
	struct media_engine_opts eo = {
	    .control = &W.loop, .workers = workers, .queue_len = queue_len};
	assert_int_equal(media_engine_new(&W.engine, &eo), 0);
	struct room_service_opts o = {.loop = &W.loop,
				      .engine = W.engine,
				      .rate = 16000,
				      .departure_timeout_ms = departure_ms,
				      .h = &handlers};
	assert_int_equal(room_service_new(&W.rs, &o), 0);
}

static void service_stop(void)
{
	if (W.rs) {
		room_service_close(W.rs, on_rs_closed, NULL);
		assert_true(run_until(flag_set, &W.rs_closed, WAIT_MAX));
		assert_int_equal(W.rs_closed, 1);
		W.rs = NULL;
	}
	if (W.engine) {
		media_engine_close(W.engine, on_engine_closed, NULL);
		assert_true(run_until(flag_set, &W.engine_closed, WAIT_MAX));
		W.engine = NULL;
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	if (uv_loop_init(&W.loop))
		return -1;
	uv_timer_init(&W.loop, &W.guard);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	service_stop();
	for (int i = 0; i < N_PEERS; i++)
		peer_close(&W.peer[i]);
	uv_close((uv_handle_t *)&W.guard, NULL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < N_PEERS; i++)
		if (W.peer[i].fd > 0)
			close(W.peer[i].fd);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	return 0;
}

/* ---- tests ---- */

/* echo + player + leg: the leg's far end hears its own voice back from the echo and the
 * player's tone; events come in order and the room closes after the departure timeout. */
static void test_echo_player_leg(void **state)
{
	(void)state;
	service_start(1, 150, 0);
	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	a->sending = true;
	int mark = 7;
	struct room_join je = echo_join("r1", "echo");
	je.arg = &mark;
	struct room_part *echo = join_ok(&je);
	assert_string_equal(room_part_identity(echo), "echo");
	assert_string_equal(room_part_room(echo), "r1");
	struct room_join jl = leg_join("r1", "sip", a);
	struct room_part *sip = join_ok(&jl);
	assert_int_equal(room_service_room_count(W.rs), 1);
	wait_ev(ROOM_EV_JOINED, "r1", NULL, 2);

	/* only the echo: what a says comes back, nothing else; narrowband only, the room mixes
	 * at 8 kHz */
	wait_rate("r1", 8000);
	listen_peers(300, 400);
	assert_hears(a, 600);
	assert_not_hears(a, 1000);

	/* the player joins: its tone too (an 8 kHz WAV, resampled to the service rate, which the
	 * room now mixes at) */
	struct room_join jp = player_join("r1", "music", 1000, 8000);
	struct room_part *music = join_ok(&jp);
	wait_ev(ROOM_EV_JOINED, "r1", "music", 1);
	wait_rate("r1", 16000);
	listen_peers(300, 400);
	assert_hears(a, 1000);
	assert_hears(a, 600);
	assert_not_hears(a, 1400);

	/* events so far: started, then the three joins in order, with their args */
	assert_int_equal(W.ev[0].type, ROOM_EV_ROOM_STARTED);
	assert_string_equal(W.ev[0].room, "r1");
	int je_i = find_ev(0, ROOM_EV_JOINED, "r1", "echo");
	int jl_i = find_ev(0, ROOM_EV_JOINED, "r1", "sip");
	int jp_i = find_ev(0, ROOM_EV_JOINED, "r1", "music");
	assert_true(je_i > 0 && je_i < jl_i && jl_i < jp_i);
	assert_ptr_equal(W.ev[je_i].arg, &mark);
	assert_ptr_equal(W.ev[jl_i].arg, a);

	/* everyone leaves: LEFT for each, then the room lingers for the departure timeout */
	room_part_leave(music);
	room_part_leave(sip);
	room_part_leave(echo);
	room_part_leave(echo); /* twice is once */
	wait_ev(ROOM_EV_LEFT, "r1", NULL, 3);
	uint64_t last_left = W.ev[W.nev - 1].at;
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, "r1", NULL), 0);
	assert_int_equal(room_service_room_count(W.rs), 1);
	wait_ev(ROOM_EV_ROOM_FINISHED, "r1", NULL, 1);
	int fin = find_ev(0, ROOM_EV_ROOM_FINISHED, "r1", NULL);
	assert_true(W.ev[fin].at - last_left >= 140);
	assert_int_equal(fin, (int)W.nev - 1);
	assert_int_equal(room_service_room_count(W.rs), 0);
	assert_int_equal(count_ev(ROOM_EV_LEFT, "r1", "echo"), 1);
	assert_int_equal(count_ev(ROOM_EV_LEFT, "r1", "sip"), 1);
	assert_int_equal(count_ev(ROOM_EV_LEFT, "r1", "music"), 1);
	assert_true(find_ev(0, ROOM_EV_LEFT, "r1", "sip") > jp_i);
	/* the leg's port is free again */
	int fd = rtp_sock_bind("127.0.0.1", ntohs(a->remote.sin_port));
	assert_true(fd >= 0);
	close(fd);
}

/* A room's rate: its first participant's (PCMU: 8 kHz), up to 16 kHz when a G.722 leg joins,
 * and never down again; the legs hear each other across the switch. */
static void test_room_rate_up(void **state)
{
	(void)state;
	service_start(1, 5000, 0);
	struct peer *a = &W.peer[0], *b = &W.peer[1];
	peer_open(a, 600);
	peer_open(b, 1400);
	peer_wideband(b);
	a->sending = b->sending = true;
	struct room_join ja = leg_join("wb", "a", a);
	struct room_part *pa = join_ok(&ja);
	wait_ev(ROOM_EV_JOINED, "wb", "a", 1);
	wait_rate("wb", 8000);
	struct room_info ri;
	assert_int_equal(room_service_get_room(W.rs, "wb", &ri), 0);
	assert_int_equal(ri.rate, 8000);
	assert_int_equal(room_service_rate(W.rs), 16000); /* the service's stays the maximum */

	struct room_join jb = leg_join("wb", "b", b);
	struct room_part *pb = join_ok(&jb);
	wait_ev(ROOM_EV_JOINED, "wb", "b", 1);
	wait_rate("wb", 16000);
	listen_peers(300, 400);
	assert_hears(a, 1400);
	assert_not_hears(a, 600);
	assert_hears(b, 600);
	assert_not_hears(b, 1400);

	/* the wideband leg leaves: the room stays at 16 kHz (no flapping), a goes on alone */
	room_part_leave(pb);
	wait_ev(ROOM_EV_LEFT, "wb", "b", 1);
	run_for(100);
	assert_int_equal(room_service_get_room(W.rs, "wb", &ri), 0);
	assert_int_equal(ri.rate, 16000);
	/* an echo now: a hears itself at the new rate */
	struct room_join je = echo_join("wb", "echo");
	(void)join_ok(&je);
	wait_ev(ROOM_EV_JOINED, "wb", "echo", 1);
	listen_peers(300, 400);
	assert_hears(a, 600);
	assert_not_hears(a, 1400);
	room_part_leave(pa);
	wait_ev(ROOM_EV_LEFT, "wb", "a", 1);
}

/* Music on hold comes at the service rate: a narrowband room goes up to it when a participant
 * gets it, and the held leg hears it. */
static void test_room_rate_moh(void **state)
{
	(void)state;
	service_start(1, 5000, 0);
	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	a->sending = true;
	struct room_join ja = leg_join("m", "a", a);
	struct room_part *pa = join_ok(&ja);
	struct room_join je = echo_join("m", "echo");
	(void)join_ok(&je);
	wait_ev(ROOM_EV_JOINED, "m", NULL, 2);
	wait_rate("m", 8000);
	listen_peers(300, 400);
	assert_hears(a, 600);
	struct room_join jp = player_join("m", "unused", 1000, 16000); /* a 1 s, 16 kHz tone */
	struct media_wav moh = jp.wav;
	room_part_set_moh(pa, &moh);
	room_part_set_hold(pa, true);
	wait_rate("m", 16000);
	listen_peers(300, 400);
	assert_hears(a, 1000);
	assert_not_hears(a, 600);
	room_part_set_hold(pa, false);
	room_part_set_moh(pa, NULL);
	listen_peers(300, 400);
	assert_hears(a, 600);
	assert_not_hears(a, 1000);
	room_part_leave(pa);
	wait_ev(ROOM_EV_LEFT, "m", "a", 1);
	free(moh.pcm);
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* Identities are unique per room; bad joins take nothing over but the leg fds (closed). */
static void test_join_errors(void **state)
{
	(void)state;
	service_start(1, 100, 0);
	struct room_join j = echo_join("r2", "x");
	struct room_part *x = join_ok(&j);
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, &j, &p), SB_EEXISTS);
	assert_null(p);
	/* the same identity as a leg: refused, and its socket closed */
	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	struct room_join jl = leg_join("r2", "x", a);
	int fd = jl.leg.rtp_fd;
	assert_int_equal(room_join(W.rs, &jl, &p), SB_EEXISTS);
	assert_false(fd_is_open(fd));
	/* the same identity in another room is fine */
	struct room_join j3 = echo_join("r3", "x");
	struct room_part *x3 = join_ok(&j3);
	/* generated identities differ */
	struct room_join jg = echo_join("r2", NULL);
	struct room_part *g1 = join_ok(&jg);
	struct room_part *g2 = join_ok(&jg);
	assert_string_not_equal(room_part_identity(g1), room_part_identity(g2));
	assert_string_not_equal(room_part_identity(g1), "x");
	/* invalid */
	struct room_join bad = echo_join("", "y");
	assert_int_equal(room_join(W.rs, &bad, &p), SB_EINVAL);
	char longname[ROOM_NAME_MAX + 8];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	bad = echo_join(longname, "y");
	assert_int_equal(room_join(W.rs, &bad, &p), SB_EINVAL);
	struct room_join nowav = echo_join("r2", "silent");
	nowav.media = ROOM_MEDIA_PLAYER;
	assert_int_equal(room_join(W.rs, &nowav, &p), SB_EINVAL);
	assert_int_equal(room_service_room_count(W.rs), 2);
	wait_ev(ROOM_EV_JOINED, NULL, NULL, 4);
	assert_int_equal(count_ev(ROOM_EV_JOIN_FAILED, NULL, NULL), 0);
	/* leaving frees the identity at once the LEFT is in */
	room_part_leave(x);
	wait_ev(ROOM_EV_LEFT, "r2", "x", 1);
	struct room_part *x2 = join_ok(&j);
	(void)x2;
	(void)x3;
	service_stop();
	/* everyone was removed: one LEFT per JOINED, one FINISHED per STARTED */
	assert_int_equal(count_ev(ROOM_EV_JOINED, NULL, NULL), 5);
	assert_int_equal(count_ev(ROOM_EV_LEFT, NULL, NULL), 5);
	assert_int_equal(count_ev(ROOM_EV_ROOM_STARTED, NULL, NULL), 2);
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, NULL, NULL), 2);
}

/* A join during the departure timeout keeps the room; close_when_empty does not wait. */
static void test_departure_and_close_when_empty(void **state)
{
	(void)state;
	service_start(1, 400, 0);
	struct room_join j = echo_join("stay", "e1");
	struct room_part *e1 = join_ok(&j);
	wait_ev(ROOM_EV_JOINED, "stay", "e1", 1);
	room_part_leave(e1);
	wait_ev(ROOM_EV_LEFT, "stay", "e1", 1);
	j.identity = "e2";
	struct room_part *e2 = join_ok(&j);
	run_for(600); /* past the departure timeout of the first leave */
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, "stay", NULL), 0);
	assert_int_equal(count_ev(ROOM_EV_ROOM_STARTED, "stay", NULL), 1);
	assert_int_equal(room_service_room_count(W.rs), 1);
	room_part_leave(e2);
	wait_ev(ROOM_EV_ROOM_FINISHED, "stay", NULL, 1);
	assert_int_equal(room_service_room_count(W.rs), 0);

	/* a per-call room: gone with its last participant, no 400 ms wait */
	struct room_join jc = echo_join("call-1", "c");
	jc.close_when_empty = true;
	struct room_part *c = join_ok(&jc);
	struct room_join jc2 = echo_join("call-1", "c2");
	struct room_part *c2 = join_ok(&jc2);
	wait_ev(ROOM_EV_JOINED, "call-1", NULL, 2);
	room_part_leave(c);
	wait_ev(ROOM_EV_LEFT, "call-1", "c", 1);
	run_for(50);
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, "call-1", NULL), 0); /* c2 is still in */
	room_part_leave(c2);
	wait_ev(ROOM_EV_LEFT, "call-1", "c2", 1);
	int left = find_ev(0, ROOM_EV_LEFT, "call-1", "c2");
	/* FINISHED comes with the LEFT, in the same turn of the loop */
	int fin = find_ev(0, ROOM_EV_ROOM_FINISHED, "call-1", NULL);
	assert_int_equal(fin, left + 1);
	assert_int_equal(room_service_room_count(W.rs), 0);
	/* the name can be used again: a new room */
	struct room_join jn = echo_join("call-1", "c");
	(void)join_ok(&jn);
	assert_int_equal(count_ev(ROOM_EV_ROOM_STARTED, "call-1", NULL), 2);
}

static void rooms_cb(void *arg, const struct room_info *ri)
{
	unsigned *seen = arg;
	if (strcmp(ri->name, "a") == 0)
		seen[0] = ri->participants;
	else if (strcmp(ri->name, "b") == 0)
		seen[1] = ri->participants;
	else if (strcmp(ri->name, "c") == 0)
		seen[2] = ri->participants + 100;
}

/* Closing the service with people inside: everyone leaves, every room finishes, then cb. */
static void test_service_close_with_participants(void **state)
{
	(void)state;
	service_start(2, 5000, 0);
	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	a->sending = true;
	struct room_join j1 = echo_join("a", "echo");
	struct room_join j2 = leg_join("a", "sip", a);
	struct room_join j3 = player_join("b", "music", 1000, 16000);
	struct room_join j4 = echo_join("c", "gone");
	(void)join_ok(&j1);
	(void)join_ok(&j2);
	(void)join_ok(&j3);
	struct room_part *gone = join_ok(&j4);
	wait_ev(ROOM_EV_JOINED, NULL, NULL, 4);
	room_part_leave(gone); /* room c waits for its departure timeout */
	wait_ev(ROOM_EV_LEFT, "c", "gone", 1);
	unsigned seen[3] = {99, 99, 99};
	assert_int_equal(room_service_list(W.rs, rooms_cb, seen), 3);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 100);
	listen_peers(200, 300);
	assert_hears(a, 600);
	size_t before = W.nev;
	room_service_close(W.rs, on_rs_closed, NULL);
	/* closing: no more joins */
	struct room_join late = echo_join("a", "late");
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, &late, &p), SB_EINVAL);
	assert_true(run_until(flag_set, &W.rs_closed, WAIT_MAX));
	assert_int_equal(W.rs_closed, 1);
	W.rs = NULL;
	assert_int_equal(count_ev(ROOM_EV_LEFT, "a", NULL), 2);
	assert_int_equal(count_ev(ROOM_EV_LEFT, "b", NULL), 1);
	for (const char *const *r = (const char *const[]){"a", "b", "c", NULL}; *r; r++) {
		assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, *r, NULL), 1);
		int fin = find_ev(before, ROOM_EV_ROOM_FINISHED, *r, NULL);
		assert_true(fin >= (int)before);
		/* nothing of a room after its end */
		for (size_t i = (size_t)fin + 1; i < W.nev; i++)
			assert_string_not_equal(W.ev[i].room, *r);
	}
	/* the leg's media stopped: nothing reaches the peer any more */
	run_for(100);
	uint64_t rx = a->rx_audio;
	run_for(200);
	assert_int_equal(a->rx_audio, rx);
	service_stop();
}

/* Two legs and a player: mix-minus, then hold and mute. */
static void conf_open(struct room_part **pa, struct room_part **pb, struct room_part **music)
{
	service_start(1, 100, 0);
	struct peer *a = &W.peer[0], *b = &W.peer[1];
	peer_open(a, 600);
	peer_open(b, 1400);
	a->sending = b->sending = true;
	struct room_join ja = leg_join("conf", "a", a);
	struct room_join jb = leg_join("conf", "b", b);
	struct room_join jm = player_join("conf", "music", 1000, 16000);
	*pa = join_ok(&ja);
	*pb = join_ok(&jb);
	*music = join_ok(&jm);
	wait_ev(ROOM_EV_JOINED, "conf", NULL, 3);
}

static void test_mix_hold_mute(void **state)
{
	(void)state;
	struct room_part *pa, *pb, *music;
	conf_open(&pa, &pb, &music);
	struct peer *a = &W.peer[0], *b = &W.peer[1];
	/* each hears the others, never itself */
	listen_peers(300, 400);
	assert_hears(a, 1400);
	assert_hears(a, 1000);
	assert_not_hears(a, 600);
	assert_hears(b, 600);
	assert_hears(b, 1000);
	assert_not_hears(b, 1400);

	/* a on hold: not heard by b, and a is fed nothing */
	room_part_set_hold(pa, true);
	listen_peers(300, 400);
	assert_int_equal(a->ncap, 0);
	assert_not_hears(b, 600);
	assert_hears(b, 1000);
	room_part_set_hold(pa, false);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_hears(a, 1400);
	assert_hears(a, 1000);

	/* the player muted: nobody hears it; b muted: a hears only... nothing of b */
	room_part_set_mute(music, true);
	room_part_set_mute(pb, true);
	listen_peers(300, 400);
	assert_not_hears(a, 1000);
	assert_not_hears(a, 1400);
	assert_not_hears(b, 1000);
	assert_hears(b, 600); /* muted b still hears */
	room_part_set_mute(music, false);
	room_part_set_mute(pb, false);
	listen_peers(300, 400);
	assert_hears(a, 1000);
	assert_hears(a, 1400);
	assert_int_equal(count_ev(ROOM_EV_MEDIA_TIMEOUT, NULL, NULL), 0);
}

static void test_subscribe(void **state)
{
	(void)state;
	struct room_part *pa, *pb, *music;
	conf_open(&pa, &pb, &music);
	struct peer *a = &W.peer[0], *b = &W.peer[1];
	const char *only_music[] = {"music"};
	assert_int_equal(room_part_subscribe(pb, false, only_music, 1), 0);
	listen_peers(300, 400);
	assert_hears(b, 1000);
	assert_not_hears(b, 600);
	assert_hears(a, 1400); /* a is not affected */
	assert_hears(a, 1000);
	const char *only_a[] = {"a"};
	assert_int_equal(room_part_subscribe(pb, false, only_a, 1), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_not_hears(b, 1000);
	/* an identity that is not there: silence */
	const char *nobody[] = {"nobody"};
	assert_int_equal(room_part_subscribe(pb, false, nobody, 1), 0);
	listen_peers(300, 400);
	assert_not_hears(b, 600);
	assert_not_hears(b, 1000);
	/* everyone again */
	assert_int_equal(room_part_subscribe(pb, true, NULL, 0), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_hears(b, 1000);
	assert_not_hears(b, 1400);
	const char *many[ROOM_MAX_SUBS + 1];
	for (size_t i = 0; i <= ROOM_MAX_SUBS; i++)
		many[i] = "a";
	assert_int_equal(room_part_subscribe(pb, false, many, ROOM_MAX_SUBS + 1), SB_ETOOBIG);
}

static void test_dtmf_timeout_join_failed(void **state)
{
	(void)state;
	service_start(1, 100, 0);
	struct peer *a = &W.peer[0], *c = &W.peer[1];
	peer_open(a, 600);
	peer_open(c, 0);
	a->sending = true;
	struct room_join ja = leg_join("d", "a", a);
	struct room_part *pa = join_ok(&ja);
	/* c never sends: its first-RTP timeout fires, once */
	struct room_join jc = leg_join("d", "c", c);
	jc.leg.first_rtp_timeout_ms = 200;
	jc.leg.rtp_timeout_ms = 200;
	(void)join_ok(&jc);
	wait_ev(ROOM_EV_JOINED, "d", NULL, 2);
	run_for(200);
	/* a key from a's far end: one DTMF event */
	peer_send_key(a, '7');
	wait_ev(ROOM_EV_DTMF, "d", "a", 1);
	int k = find_ev(0, ROOM_EV_DTMF, "d", "a");
	assert_int_equal(W.ev[k].digit, '7');
	assert_ptr_equal(W.ev[k].arg, a);
	/* keys to a's far end: telephone-event packets */
	assert_int_equal(room_part_send_dtmf(pa, "12"), 0);
	assert_int_equal(room_part_send_dtmf(pa, "1x"), SB_EINVAL);
	wait_ev(ROOM_EV_MEDIA_TIMEOUT, "d", "c", 1);
	int t = find_ev(0, ROOM_EV_MEDIA_TIMEOUT, "d", "c");
	assert_int_equal(W.ev[t].timeout, MEDIA_LEG_NO_RTP_AFTER_ANSWER);
	run_for(500);
	assert_true(a->rx_te >= 6);
	assert_int_equal(count_ev(ROOM_EV_DTMF, NULL, NULL), 1);
	assert_int_equal(count_ev(ROOM_EV_MEDIA_TIMEOUT, NULL, NULL), 1);
	/* the worker cannot start this leg: JOIN_FAILED, then LEFT */
	struct room_join jf = leg_join("d", "f", c);
	int fd = jf.leg.rtp_fd;
	jf.leg.codec = MEDIA_CODEC__COUNT;
	struct room_part *pf = join_ok(&jf);
	(void)pf;
	wait_ev(ROOM_EV_LEFT, "d", "f", 1);
	int jfail = find_ev(0, ROOM_EV_JOIN_FAILED, "d", "f");
	assert_true(jfail >= 0);
	assert_int_equal(W.ev[jfail].err, SB_EINVAL);
	assert_true(jfail < find_ev(0, ROOM_EV_LEFT, "d", "f"));
	assert_int_equal(count_ev(ROOM_EV_JOINED, "d", "f"), 0);
	assert_false(fd_is_open(fd));
}

/* Data messages go through the room's worker and come back as ROOM_EV_DATA, in order. */
static void test_data(void **state)
{
	(void)state;
	service_start(1, 100, 0);
	struct room_join j = echo_join("talk", "e");
	(void)join_ok(&j);
	static uint8_t big[65537];
	assert_int_equal(room_send_data(W.rs, "nowhere", NULL, "t", big, 1, NULL, 0), SB_ENOTFOUND);
	assert_int_equal(room_send_data(W.rs, "talk", NULL, "t", big, sizeof(big), NULL, 0),
			 SB_ETOOBIG);
	const uint8_t hello[] = "hello";
	assert_int_equal(room_send_data(W.rs, "talk", "e", "chat", hello, 5, NULL, 0), 0);
	assert_int_equal(room_send_data(W.rs, "talk", NULL, "sys", NULL, 0, NULL, 0), 0);
	wait_ev(ROOM_EV_DATA, "talk", NULL, 2);
	int d1 = find_ev(0, ROOM_EV_DATA, "talk", "e");
	int d2 = find_ev(0, ROOM_EV_DATA, "talk", "");
	assert_true(d1 >= 0 && d2 > d1);
}

/* ---- a full worker queue ---- */

static atomic_int blk_entered, blk_release;

static void on_block(const struct media_msg *m)
{
	(void)m;
	atomic_store(&blk_entered, 1);
	uint64_t end = now_ms() + 5000;
	while (!atomic_load(&blk_release) && now_ms() < end)
		uv_sleep(1);
}

static void on_nop(const struct media_msg *m)
{
	(void)m;
}

static bool entered(void *arg)
{
	(void)arg;
	return atomic_load(&blk_entered) != 0;
}

static void test_worker_queue_full(void **state)
{
	(void)state;
	atomic_store(&blk_entered, 0);
	atomic_store(&blk_release, 0);
	service_start(1, 100, 8);
	struct room_join j = echo_join("r", "keep");
	struct room_part *keep = join_ok(&j);
	wait_ev(ROOM_EV_JOINED, "r", "keep", 1);
	struct media_worker *w = media_engine_worker(W.engine, 0);
	struct media_msg blk = {.fn = on_block};
	assert_int_equal(media_worker_post(w, &blk), 0);
	assert_true(run_until(entered, NULL, WAIT_MAX));
	struct media_msg nop = {.fn = on_nop};
	int n = 0;
	while (media_worker_post(w, &nop) == 0)
		n++;
	assert_int_equal(n, 8);
	size_t nev = W.nev;
	struct room_part *p = NULL;
	/* a new room cannot be started */
	struct room_join jn = echo_join("r-new", "x");
	assert_int_equal(room_join(W.rs, &jn, &p), SB_EBUSY);
	assert_null(p);
	assert_int_equal(room_service_room_count(W.rs), 1);
	/* nor a participant added; the leg's socket is closed, the WAV stays the caller's */
	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	struct room_join jl = leg_join("r", "sip", a);
	int fd = jl.leg.rtp_fd;
	assert_int_equal(room_join(W.rs, &jl, &p), SB_EBUSY);
	assert_false(fd_is_open(fd));
	struct room_join jp = player_join("r", "music", 1000, 16000);
	assert_int_equal(room_join(W.rs, &jp, &p), SB_EBUSY);
	media_wav_free(&jp.wav);
	struct room_join jp8 = player_join("r", "music8", 1000, 8000);
	assert_int_equal(room_join(W.rs, &jp8, &p), SB_EBUSY);
	media_wav_free(&jp8.wav);
	assert_int_equal(W.nev, nev); /* no events for any of them */
	/* what must not be lost waits for room in the queue */
	room_part_set_mute(keep, true);
	room_part_leave(keep);
	atomic_store(&blk_release, 1);
	wait_ev(ROOM_EV_LEFT, "r", "keep", 1);
	wait_ev(ROOM_EV_ROOM_FINISHED, "r", NULL, 1);
	assert_int_equal(count_ev(ROOM_EV_ROOM_STARTED, NULL, NULL), 1);
}

/* ---- the API's view: rooms created empty, participant info, delete, subscriptions ---- */

static void test_create_room(void **state)
{
	(void)state;
	service_start(1, 100, 0);
	bool created = false;
	struct room_create_opts o = {
	    .name = "lobby", .empty_timeout_s = 1, .max_participants = 1, .metadata = "m1"};
	assert_int_equal(room_service_create_room(W.rs, &o, &created), 0);
	assert_true(created);
	wait_ev(ROOM_EV_ROOM_STARTED, "lobby", NULL, 1);
	struct room_info ri;
	assert_int_equal(room_service_get_room(W.rs, "lobby", &ri), 0);
	assert_string_equal(ri.name, "lobby");
	assert_memory_equal(ri.sid, "RM_", 3);
	assert_int_equal(strlen(ri.sid), 15);
	assert_string_equal(ri.metadata, "m1");
	assert_int_equal(ri.empty_timeout_s, 1);
	assert_int_equal(ri.departure_timeout_s, 0); /* 100 ms: the service's default */
	assert_int_equal(ri.max_participants, 1);
	assert_int_equal(ri.participants, 0);
	assert_true(ri.created_unix_ms > 1600000000000ull);
	char sid[ROOM_SID_MAX];
	snprintf(sid, sizeof(sid), "%s", ri.sid);
	/* again: updated, same room */
	struct room_create_opts o2 = {.name = "lobby", .departure_timeout_s = 7, .metadata = "m2"};
	assert_int_equal(room_service_create_room(W.rs, &o2, &created), 0);
	assert_false(created);
	assert_int_equal(room_service_get_room(W.rs, "lobby", &ri), 0);
	assert_string_equal(ri.sid, sid);
	assert_string_equal(ri.metadata, "m2");
	assert_int_equal(ri.empty_timeout_s, 1);
	assert_int_equal(ri.departure_timeout_s, 7);
	assert_int_equal(ri.max_participants, 1);
	assert_int_equal(room_service_set_room_metadata(W.rs, "lobby", "m3"), 0);
	assert_int_equal(room_service_get_room(W.rs, "lobby", &ri), 0);
	assert_string_equal(ri.metadata, "m3");
	assert_int_equal(room_service_set_room_metadata(W.rs, "nope", "x"), SB_ENOTFOUND);
	assert_int_equal(room_service_get_room(W.rs, "nope", &ri), SB_ENOTFOUND);
	struct room_create_opts bad = {.name = ""};
	assert_int_equal(room_service_create_room(W.rs, &bad, NULL), SB_EINVAL);

	/* max_participants 1 */
	struct room_join j = echo_join("lobby", "e1");
	struct room_part *e1 = join_ok(&j);
	struct room_part *p2 = NULL;
	j.identity = "e2";
	assert_int_equal(room_join(W.rs, &j, &p2), SB_ENORES);
	assert_int_equal(room_service_get_room(W.rs, "lobby", &ri), 0);
	assert_int_equal(ri.participants, 1);
	assert_int_equal(ri.publishers, 1);
	room_part_leave(e1);
	wait_ev(ROOM_EV_LEFT, "lobby", "e1", 1);

	/* a room nobody joins closes after its own empty timeout */
	struct room_create_opts o3 = {.name = "empty", .empty_timeout_s = 1};
	assert_int_equal(room_service_create_room(W.rs, &o3, NULL), 0);
	run_for(700);
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, "empty", NULL), 0);
	wait_ev(ROOM_EV_ROOM_FINISHED, "empty", NULL, 1);
	assert_int_equal(room_service_get_room(W.rs, "empty", &ri), SB_ENOTFOUND);
}

static void collect_parts(void *arg, struct room_part *p)
{
	struct room_part **v = arg;
	while (*v)
		v++;
	*v = p;
}

static void test_part_info(void **state)
{
	(void)state;
	service_start(1, 100, 0);
	struct room_attr attrs[] = {{"z", "last"}, {"a", "first"}, {"gone", ""}};
	struct room_join j = echo_join("info", "e1");
	j.kind = ROOM_PART_SIP;
	j.name = "Phone 555";
	j.metadata = "md";
	j.attrs = attrs;
	j.n_attrs = 3;
	struct room_part *e1 = join_ok(&j);
	struct room_part_info pi;
	room_part_get_info(e1, &pi);
	assert_string_equal(pi.room, "info");
	assert_string_equal(pi.identity, "e1");
	assert_memory_equal(pi.sid, "PA_", 3);
	assert_memory_equal(pi.track_sid, "TR_", 3);
	assert_string_equal(pi.name, "Phone 555");
	assert_string_equal(pi.metadata, "md");
	assert_string_equal(pi.codec, "");
	assert_int_equal(pi.kind, ROOM_PART_SIP);
	assert_int_equal(pi.state, ROOM_PART_JOINING);
	assert_true(pi.joined_ms > 1600000000000ull);
	assert_int_equal(pi.n_attrs, 2); /* sorted, the empty one not stored */
	assert_string_equal(pi.attrs[0].key, "a");
	assert_string_equal(pi.attrs[1].key, "z");
	wait_ev(ROOM_EV_JOINED, "info", "e1", 1);
	room_part_get_info(e1, &pi);
	assert_int_equal(pi.state, ROOM_PART_ACTIVE);
	uint32_t v = pi.version;

	/* merge: set, replace, delete */
	struct room_attr ch[] = {{"a", ""}, {"z", "new"}, {"m", "mid"}};
	assert_int_equal(room_part_update_attrs(e1, ch, 3), 0);
	room_part_get_info(e1, &pi);
	assert_int_equal(pi.n_attrs, 2);
	assert_string_equal(pi.attrs[0].key, "m");
	assert_string_equal(pi.attrs[0].value, "mid");
	assert_string_equal(pi.attrs[1].key, "z");
	assert_string_equal(pi.attrs[1].value, "new");
	assert_true(pi.version > v);
	/* the same key twice in one change: the last one wins */
	struct room_attr twice[] = {{"k", "1"}, {"k", "2"}};
	assert_int_equal(room_part_update_attrs(e1, twice, 2), 0);
	room_part_get_info(e1, &pi);
	assert_int_equal(pi.n_attrs, 3);
	assert_string_equal(pi.attrs[0].key, "k");
	assert_string_equal(pi.attrs[0].value, "2");
	/* all or nothing */
	struct room_attr bad[] = {{"ok", "1"}, {"", "x"}};
	assert_int_equal(room_part_update_attrs(e1, bad, 2), SB_EINVAL);
	static char keys[ROOM_ATTRS_MAX + 1][8];
	struct room_attr many[ROOM_ATTRS_MAX + 1];
	for (int i = 0; i <= ROOM_ATTRS_MAX; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		many[i] = (struct room_attr){keys[i], "v"};
	}
	assert_int_equal(room_part_update_attrs(e1, many, ROOM_ATTRS_MAX + 1), SB_ETOOBIG);
	room_part_get_info(e1, &pi);
	assert_int_equal(pi.n_attrs, 3);

	assert_int_equal(room_part_set_name(e1, "Bob"), 0);
	assert_int_equal(room_part_set_metadata(e1, "md2"), 0);
	room_part_set_mute(e1, true);
	room_part_set_hold(e1, true);
	room_part_get_info(e1, &pi);
	assert_string_equal(pi.name, "Bob");
	assert_string_equal(pi.metadata, "md2");
	assert_true(pi.muted);
	assert_true(pi.held);

	/* find and enumerate, oldest first; a data-only participant has no track */
	struct room_join jn = echo_join("info", "n1");
	jn.media = ROOM_MEDIA_NONE;
	struct room_part *n1 = join_ok(&jn);
	room_part_get_info(n1, &pi);
	assert_string_equal(pi.track_sid, "");
	assert_ptr_equal(room_service_find_part(W.rs, "info", "n1"), n1);
	assert_ptr_equal(room_service_find_part(W.rs, "info", "e1"), e1);
	assert_null(room_service_find_part(W.rs, "info", "x"));
	assert_null(room_service_find_part(W.rs, "nope", "e1"));
	struct room_part *all[4] = {0};
	assert_int_equal(room_service_each_part(W.rs, "info", collect_parts, all), 2);
	assert_ptr_equal(all[0], e1);
	assert_ptr_equal(all[1], n1);
	assert_int_equal(room_service_each_part(W.rs, "nope", collect_parts, all), 0);
	struct room_info ri;
	assert_int_equal(room_service_get_room(W.rs, "info", &ri), 0);
	assert_int_equal(ri.publishers, 1);

	/* leaving: not found any more, no changes */
	room_part_leave(n1);
	assert_null(room_service_find_part(W.rs, "info", "n1"));
	room_part_get_info(n1, &pi);
	assert_int_equal(pi.state, ROOM_PART_LEAVING);
	assert_int_equal(room_part_set_name(n1, "x"), SB_ESTATE);
	assert_int_equal(room_part_update_attrs(n1, ch, 1), SB_ESTATE);
	wait_ev(ROOM_EV_LEFT, "info", "n1", 1);
}

static void test_delete_room(void **state)
{
	(void)state;
	service_start(1, 5000, 0);
	struct room_join j1 = echo_join("del", "e1"), j2 = echo_join("del", "e2");
	(void)join_ok(&j1);
	(void)join_ok(&j2);
	wait_ev(ROOM_EV_JOINED, "del", NULL, 2);
	assert_int_equal(room_service_delete_room(W.rs, "del"), 0);
	struct room_info ri;
	assert_int_equal(room_service_get_room(W.rs, "del", &ri), SB_ENOTFOUND);
	assert_int_equal(room_service_room_count(W.rs), 0);
	assert_int_equal(room_service_delete_room(W.rs, "del"), SB_ENOTFOUND);
	/* the name makes a new room at once */
	struct room_join j3 = echo_join("del", "e1");
	(void)join_ok(&j3);
	assert_int_equal(count_ev(ROOM_EV_ROOM_STARTED, "del", NULL), 2);
	wait_ev(ROOM_EV_LEFT, "del", "e2", 1);
	wait_ev(ROOM_EV_ROOM_FINISHED, "del", NULL, 1); /* the old one: no departure wait */
	assert_int_equal(room_service_get_room(W.rs, "del", &ri), 0);
	assert_int_equal(ri.participants, 1);
	/* an empty room closes at once */
	struct room_create_opts o = {.name = "empty"};
	assert_int_equal(room_service_create_room(W.rs, &o, NULL), 0);
	assert_int_equal(room_service_delete_room(W.rs, "empty"), 0);
	assert_int_equal(count_ev(ROOM_EV_ROOM_FINISHED, "empty", NULL), 1);
}

/* Hearing everyone but some (update_subscriptions) and adding to an "only these" list. */
static void test_update_subscriptions(void **state)
{
	(void)state;
	struct room_part *pa, *pb, *music;
	conf_open(&pa, &pb, &music);
	struct peer *a = &W.peer[0], *b = &W.peer[1];
	const char *m[] = {"music"}, *aa[] = {"a"};
	assert_int_equal(room_part_update_subscriptions(pb, m, 1, false), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_not_hears(b, 1000);
	assert_hears(a, 1000); /* a is not affected */
	assert_int_equal(room_part_update_subscriptions(pb, m, 1, true), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_hears(b, 1000);
	/* "only a", then add music */
	assert_int_equal(room_part_subscribe(pb, false, aa, 1), 0);
	assert_int_equal(room_part_update_subscriptions(pb, m, 1, true), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_hears(b, 1000);
	assert_int_equal(room_part_update_subscriptions(pb, aa, 1, false), 0);
	listen_peers(300, 400);
	assert_not_hears(b, 600);
	assert_hears(b, 1000);
	/* too many exceptions */
	assert_int_equal(room_part_subscribe(pb, true, NULL, 0), 0);
	char ids[ROOM_MAX_SUBS + 1][8];
	const char *v[ROOM_MAX_SUBS + 1];
	for (int i = 0; i <= ROOM_MAX_SUBS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "x%d", i);
		v[i] = ids[i];
	}
	assert_int_equal(room_part_update_subscriptions(pb, v, ROOM_MAX_SUBS + 1, false),
			 SB_ETOOBIG);
	assert_int_equal(room_part_update_subscriptions(pb, v, ROOM_MAX_SUBS, false), 0);
	listen_peers(300, 400);
	assert_hears(b, 600);
	assert_hears(b, 1000);
}

/* ---- observer ---- */

enum obs_kind { OBS_STARTED, OBS_FINISHED, OBS_JOINED, OBS_LEFT, OBS_DTMF, OBS_HOLD };

struct obs {
	enum obs_kind kind;
	char room[64], id[64], sid[ROOM_SID_MAX], metadata[64];
	uint32_t participants;
	enum room_part_state state;
	bool held, by_remote;
	char digit;
};

static struct {
	struct obs v[64];
	size_t n;
} O;

static struct obs *obs_add(enum obs_kind kind, const struct room_info *r,
			   const struct room_part_info *p)
{
	assert_true(O.n < sizeof(O.v) / sizeof(O.v[0]));
	struct obs *o = &O.v[O.n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	snprintf(o->room, sizeof(o->room), "%s", r->name);
	snprintf(o->sid, sizeof(o->sid), "%s", r->sid);
	snprintf(o->metadata, sizeof(o->metadata), "%s", r->metadata);
	o->participants = r->participants;
	if (p) {
		assert_string_equal(p->room, r->name);
		snprintf(o->id, sizeof(o->id), "%s", p->identity);
		o->state = p->state;
		o->held = p->held;
	}
	return o;
}

static void obs_started(void *arg, const struct room_info *r)
{
	assert_ptr_equal(arg, &O);
	obs_add(OBS_STARTED, r, NULL);
}

static void obs_finished(void *arg, const struct room_info *r)
{
	assert_ptr_equal(arg, &O);
	obs_add(OBS_FINISHED, r, NULL);
}

static void obs_joined(void *arg, const struct room_info *r, const struct room_part_info *p)
{
	assert_ptr_equal(arg, &O);
	obs_add(OBS_JOINED, r, p);
}

static void obs_left(void *arg, const struct room_info *r, const struct room_part_info *p)
{
	assert_ptr_equal(arg, &O);
	obs_add(OBS_LEFT, r, p);
}

static void obs_dtmf(void *arg, const struct room_info *r, const struct room_part_info *p,
		     char digit, uint32_t duration_ms)
{
	(void)duration_ms;
	assert_ptr_equal(arg, &O);
	obs_add(OBS_DTMF, r, p)->digit = digit;
}

static void obs_hold(void *arg, const struct room_info *r, const struct room_part_info *p,
		     bool held, bool by_remote)
{
	assert_ptr_equal(arg, &O);
	assert_int_equal(p->held, held);
	obs_add(OBS_HOLD, r, p)->by_remote = by_remote;
}

static const struct room_observer observer = {
    .room_started = obs_started,
    .room_finished = obs_finished,
    .participant_joined = obs_joined,
    .participant_left = obs_left,
    .dtmf = obs_dtmf,
    .hold = obs_hold,
};

static int find_obs(enum obs_kind kind, const char *id)
{
	for (size_t i = 0; i < O.n; i++)
		if (O.v[i].kind == kind && (!id || strcmp(O.v[i].id, id) == 0))
			return (int)i;
	return -1;
}

static int count_obs(enum obs_kind kind)
{
	int n = 0;
	for (size_t i = 0; i < O.n; i++)
		n += O.v[i].kind == kind;
	return n;
}

/* The observer sees a room start (with CreateRoom's settings), its participants join, hold,
 * resume and send a digit, leave, and the room finish, in that order; a participant whose
 * media never started is not reported; nothing after the observer is removed. */
static void test_observer(void **state)
{
	(void)state;
	memset(&O, 0, sizeof(O));
	service_start(1, 100, 0);
	room_service_set_observer(W.rs, &observer, &O);
	struct room_create_opts co = {.name = "o", .metadata = "m1"};
	assert_int_equal(room_service_create_room(W.rs, &co, NULL), 0);
	assert_int_equal(O.n, 1);
	assert_int_equal(O.v[0].kind, OBS_STARTED);
	assert_string_equal(O.v[0].room, "o");
	assert_string_equal(O.v[0].metadata, "m1");
	assert_int_equal(O.v[0].participants, 0);
	assert_true(strncmp(O.v[0].sid, "RM_", 3) == 0);
	/* an existing room is not started again */
	assert_int_equal(room_service_create_room(W.rs, &co, NULL), 0);
	assert_int_equal(O.n, 1);

	struct peer *a = &W.peer[0];
	peer_open(a, 600);
	a->sending = true;
	struct room_join ja = leg_join("o", "a", a);
	struct room_part *pa = join_ok(&ja);
	struct room_join je = echo_join("o", "e");
	struct room_part *pe = join_ok(&je);
	wait_ev(ROOM_EV_JOINED, "o", NULL, 2);
	int ja_i = find_obs(OBS_JOINED, "a");
	assert_true(ja_i > 0);
	assert_int_equal(O.v[ja_i].state, ROOM_PART_ACTIVE);
	assert_int_equal(O.v[ja_i].participants, 2);
	assert_true(find_obs(OBS_JOINED, "e") > 0);

	/* hold: reported when the state changes only */
	room_part_set_hold(pa, true);
	room_part_set_hold(pa, true);
	room_part_set_hold(pa, false);
	room_part_set_hold(pa, false);
	assert_int_equal(count_obs(OBS_HOLD), 2);
	int h = find_obs(OBS_HOLD, "a");
	assert_true(O.v[h].held);
	assert_true(O.v[h].by_remote);
	assert_false(O.v[h + 1].held);
	/* switchboard's own hold */
	room_part_set_hold_by(pa, true, false);
	room_part_set_hold_by(pa, false, false);
	room_part_set_hold(pa, false);
	assert_int_equal(count_obs(OBS_HOLD), 4);
	assert_true(O.v[h + 2].held);
	assert_false(O.v[h + 2].by_remote);
	assert_false(O.v[h + 3].held);
	assert_false(O.v[h + 3].by_remote);

	run_for(200);
	peer_send_key(a, '9');
	wait_ev(ROOM_EV_DTMF, "o", "a", 1);
	int d = find_obs(OBS_DTMF, "a");
	assert_true(d > 0);
	assert_int_equal(O.v[d].digit, '9');

	/* media that cannot start: JOIN_FAILED and LEFT events, nothing observed */
	struct room_join jf = leg_join("o", "f", &W.peer[1]);
	jf.leg.codec = MEDIA_CODEC__COUNT;
	(void)join_ok(&jf);
	wait_ev(ROOM_EV_LEFT, "o", "f", 1);
	assert_int_equal(find_obs(OBS_JOINED, "f"), -1);
	assert_int_equal(find_obs(OBS_LEFT, "f"), -1);

	room_part_leave(pa);
	room_part_leave(pe);
	wait_ev(ROOM_EV_ROOM_FINISHED, "o", NULL, 1);
	int la = find_obs(OBS_LEFT, "a");
	assert_true(la > d);
	assert_int_equal(O.v[la].state, ROOM_PART_LEAVING);
	assert_true(find_obs(OBS_LEFT, "e") > ja_i);
	assert_int_equal(count_obs(OBS_STARTED), 1);
	assert_int_equal(count_obs(OBS_FINISHED), 1);
	assert_int_equal(O.v[O.n - 1].kind, OBS_FINISHED);
	assert_string_equal(O.v[O.n - 1].room, "o");
	assert_int_equal(O.v[O.n - 1].participants, 0);

	/* a room created by a join is started before its first participant joins */
	size_t before = O.n;
	struct room_join j2 = echo_join("o2", "e2");
	(void)join_ok(&j2);
	assert_int_equal(O.n, before + 1);
	assert_int_equal(O.v[before].kind, OBS_STARTED);
	assert_string_equal(O.v[before].room, "o2");
	wait_ev(ROOM_EV_JOINED, "o2", "e2", 1);
	assert_int_equal(O.n, before + 2);
	room_service_set_observer(W.rs, NULL, NULL);
	service_stop(); /* e2 leaves and o2 finishes unobserved */
	assert_int_equal(O.n, before + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_echo_player_leg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_room_rate_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_room_rate_moh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_departure_and_close_when_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_close_with_participants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mix_hold_mute, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_timeout_join_failed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_worker_queue_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_part_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_subscriptions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
