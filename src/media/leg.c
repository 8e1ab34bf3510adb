/* The media leg: RTP in -> SRTP -> latching -> stats -> jitter buffer / DTMF; per tick jitter
 * buffer -> decode or conceal -> resample to the room rate; room audio -> resample -> encode ->
 * RTP out; RTCP every 5 s; timeouts. One allocation per leg, none per packet or tick. */
#include "media/leg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/rand.h"
#include "media/dtmf.h"
#include "media/jitter.h"
#include "media/resample.h"
#include "rtp/packet.h"
#include "rtp/sock.h"
#include "rtp/stats.h"

#define PT_CN		 13
#define RTCP_INTERVAL_MS 5000
#define RELATCH_AFTER_MS 2000
#define FIFO_MS		 120
#define MAX_RATE	 48000
#define FRAME_MAX	 (MAX_RATE / 50) /* samples in 20 ms at 48 kHz */

struct media_leg {
	uv_loop_t *loop;
	struct media_leg_opts o;
	struct rtp_sock *rtp, *rtcp;
	unsigned open_socks;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	bool closing;

	struct media_codec *codec;
	struct media_resampler *up, *down; /* codec rate -> room rate, room -> codec */
	struct rtp_srtp *srtp_tx, *srtp_rx;
	uint32_t codec_rate, rtp_rate, room_frame, codec_frame, ts_frame;

	/* receive */
	struct media_jb jb;
	struct rtp_rx_stats rx;
	struct media_dtmf_rx dtmf_rx;
	struct media_dtmf_detector *detector; /* in-band, when te_pt < 0 */
	int16_t *fifo;			      /* decoded audio at the codec rate */
	size_t fifo_n, fifo_cap;
	bool got_rtp;
	uint64_t last_rtp_ms, answered_ms, last_latched_rx_ms;
	bool latched, timed_out, held;

	/* send */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	bool marker_next;
	uint64_t tx_packets, tx_octets;
	struct media_dtmf_tx dtmf_tx;
	struct media_dtmf_gen *gen; /* in-band keys */
	struct media_tone tone;	    /* call-progress tone played into the leg */
	bool tone_on;
	enum media_tone_kind tone_kind;
	enum media_tone_region tone_region;
	uint32_t dtmf_ts; /* timestamp of the event being sent */
	bool dtmf_event_open;
	uint64_t next_rtcp_ms;

	struct media_leg_stats st;
};

/* Packet and audio scratch space: per media thread, not per leg (a leg runs on one thread,
 * and none of these outlives the call that fills it), which keeps a leg about 5 kB smaller. */
static _Thread_local struct {
	uint8_t pkt[RTP_SOCK_MTU];
	int16_t scratch[FRAME_MAX], scratch2[FRAME_MAX];
} tl;

static void leg_free_parts(struct media_leg *l)
{
	media_codec_free(l->codec);
	media_resampler_free(l->up);
	media_resampler_free(l->down);
	rtp_srtp_free(l->srtp_tx);
	rtp_srtp_free(l->srtp_rx);
	if (l->detector)
		media_dtmf_detector_free(l->detector);
	if (l->gen)
		media_dtmf_gen_free(l->gen);
	free(l->fifo);
	media_jb_free(&l->jb);
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)(const void *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)(const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)(const void *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* arrival: when the kernel queued it (read on the tick, or with our own RTCP, seconds later) */
static void handle_rtcp(struct media_leg *l, uint8_t *data, size_t len, uint64_t arrival)
{
	if (l->srtp_rx && rtp_srtp_unprotect_rtcp(l->srtp_rx, data, &len)) {
		l->st.srtp_failures++;
		return;
	}
	struct rtcp_info info;
	if (rtcp_parse(data, len, &info))
		return;
	l->st.rtcp_rx++;
	if (info.has_sr)
		rtp_rx_stats_on_sr(&l->rx, info.ntp, arrival);
	uint64_t age_ns = (uv_now(l->loop) - arrival) * 1000000u, hr = uv_hrtime();
	uint32_t now_mid = rtcp_ntp_mid(rtcp_ntp_from_unix_ns(hr > age_ns ? hr - age_ns : hr));
	for (unsigned i = 0; i < info.n_rb; i++)
		if (info.rb[i].ssrc == l->ssrc)
			rtp_rx_stats_on_rb(&l->rx, &info.rb[i], now_mid);
}

static void on_dtmf_packet(struct media_leg *l, const struct rtp_hdr *h, uint64_t now)
{
	struct media_dtmf_digit d;
	l->st.rx_dtmf_packets++;
	if (media_dtmf_rx_packet(&l->dtmf_rx, h->marker, h->ts, h->payload, h->payload_len, now,
				 &d) &&
	    l->o.h && l->o.h->dtmf)
		/* events run on the audio clock, as the sender's (48 kHz with Opus) */
		l->o.h->dtmf(l->o.arg, d.digit, d.duration * 1000u / l->rtp_rate, false);
}

static void on_rtp(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
		   socklen_t srclen, uint64_t now)
{
	struct media_leg *l = arg;
	if (l->closing)
		return;
	if (rtp_is_rtcp(data, len)) {
		handle_rtcp(l, data, len, now);
		return;
	}
	if (l->srtp_rx && rtp_srtp_unprotect(l->srtp_rx, data, &len)) {
		l->st.srtp_failures++;
		return;
	}
	struct rtp_hdr h;
	if (rtp_parse(data, len, &h)) {
		l->st.rx_bad++;
		return;
	}
	bool audio = h.pt == l->o.pt;
	bool te = l->o.te_pt >= 0 && h.pt == (uint8_t)l->o.te_pt;
	/* symmetric RTP: send where the packets come from; move only when the current source
	 * has been silent for a while, so a stray packet cannot steal the stream */
	if (!l->latched || !same_addr(src, &l->o.remote)) {
		/* arrival times of two reads may disagree by a millisecond: never wrap */
		uint64_t quiet = now > l->last_latched_rx_ms ? now - l->last_latched_rx_ms : 0;
		if (!l->latched || quiet > RELATCH_AFTER_MS) {
			memcpy(&l->o.remote, src, srclen);
			l->o.remote_len = srclen;
			l->latched = true;
		}
	}
	if (same_addr(src, &l->o.remote) && now > l->last_latched_rx_ms)
		l->last_latched_rx_ms = now;
	/* any RTP from the peer moves the latch; only what was negotiated is played */
	if (!audio && !te && h.pt != PT_CN) {
		l->st.rx_bad++;
		return;
	}
	uint32_t arrival = (uint32_t)(now * (l->rtp_rate / 1000u));
	enum rtp_rx_verdict v = rtp_rx_stats_update(&l->rx, &h, arrival);
	if (v == RTP_RX_DUPLICATE)
		return;
	l->st.rx_packets++;
	l->st.rx_bytes += len;
	l->got_rtp = true;
	l->last_rtp_ms = now;
	if (te)
		on_dtmf_packet(l, &h, now);
	else if (audio)
		(void)media_jb_put(&l->jb, h.seq, h.ts, h.marker, h.payload, h.payload_len, now);
}

static void on_rtcp_sock(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
			 socklen_t srclen, uint64_t arrival)
{
	struct media_leg *l = arg;
	if (l->closing)
		return;
	if (!l->o.remote_rtcp_len) {
		memcpy(&l->o.remote_rtcp, src, srclen);
		l->o.remote_rtcp_len = srclen;
	}
	handle_rtcp(l, data, len, arrival);
}

static int setup_codec(struct media_leg *l)
{
	int err = media_codec_new(&l->codec, l->o.codec, &l->o.codec_o);
	if (err)
		return err;
	l->codec_rate = media_codec_rate(l->codec);
	l->rtp_rate = media_codec_rtp_rate(l->codec);
	if (l->codec_rate > MAX_RATE || l->o.room_rate > MAX_RATE)
		return SB_EINVAL;
	l->codec_frame = l->codec_rate / 50u;
	l->room_frame = l->o.room_rate / 50u;
	l->ts_frame = l->rtp_rate / 50u;
	if ((err = media_resampler_new(&l->up, l->codec_rate, l->o.room_rate, 3)) ||
	    (err = media_resampler_new(&l->down, l->o.room_rate, l->codec_rate, 3)))
		return err;
	l->fifo_cap = (size_t)l->codec_rate * FIFO_MS / 1000u;
	l->fifo = calloc(l->fifo_cap, sizeof(*l->fifo));
	if (!l->fifo)
		return SB_ENOMEM;
	struct media_jb_opts jo = {
	    .rtp_rate = l->rtp_rate, .frame_ms = 20, .min_ms = 20, .max_ms = 200};
	media_jb_free(&l->jb); /* a codec change: the old codec's payloads */
	media_jb_init(&l->jb, &jo);
	return 0;
}

static bool room_rate_ok(uint32_t rate)
{
	return rate == 8000 || rate == 16000 || rate == 24000 || rate == 48000;
}

static int check_opts(const struct media_leg_opts *o)
{
	if (o->codec >= MEDIA_CODEC__COUNT || o->pt > 127 || o->te_pt > 127 ||
	    !room_rate_ok(o->room_rate))
		return SB_EINVAL;
	return 0;
}

int media_leg_new(struct media_leg **out, uv_loop_t *loop, const struct media_leg_opts *o)
{
	int err = o->rtp_fd < 0 ? SB_EINVAL : check_opts(o);
	struct media_leg *l = err ? NULL : calloc(1, sizeof(*l));
	if (!l) {
		close(o->rtp_fd);
		if (o->rtcp_fd >= 0)
			close(o->rtcp_fd);
		return err ? err : SB_ENOMEM;
	}
	l->loop = loop;
	l->o = *o;
	if (!l->o.rtp_timeout_ms)
		l->o.rtp_timeout_ms = 15000;
	if (!l->o.first_rtp_timeout_ms)
		l->o.first_rtp_timeout_ms = 30000;
	rtp_rx_stats_init(&l->rx);
	media_dtmf_rx_init(&l->dtmf_rx);
	err = setup_codec(l);
	if (!err && o->srtp != RTP_SRTP_NONE) {
		if ((err = rtp_srtp_new(&l->srtp_tx, o->srtp, o->srtp_tx_key, true)) == 0)
			err = rtp_srtp_new(&l->srtp_rx, o->srtp, o->srtp_rx_key, false);
	}
	if (!err && o->te_pt < 0 && (err = media_dtmf_detector_new(&l->detector)) == 0)
		err = media_dtmf_gen_new(&l->gen);
	media_dtmf_tx_init(&l->dtmf_tx, l->rtp_rate ? l->rtp_rate : 8000, MEDIA_LEG_DTMF_DIGIT_MS,
			   MEDIA_LEG_DTMF_GAP_MS);
	if (err) {
		leg_free_parts(l);
		close(o->rtp_fd);
		if (o->rtcp_fd >= 0)
			close(o->rtcp_fd);
		free(l);
		return err;
	}
	l->ssrc = o->ssrc;
	while (!l->ssrc)
		l->ssrc = sb_random_u32();
	l->seq = (uint16_t)sb_random_u32();
	l->ts = sb_random_u32();
	l->marker_next = true;
	l->latched = o->remote_len != 0;
	l->answered_ms = uv_now(loop);
	l->next_rtcp_ms = l->answered_ms + RTCP_INTERVAL_MS;
	if ((err = rtp_sock_open(&l->rtp, o->rtp_fd, on_rtp, l)) != 0) {
		if (o->rtcp_fd >= 0)
			close(o->rtcp_fd);
		leg_free_parts(l);
		free(l);
		return err;
	}
	l->open_socks = 1;
	/* RTCP comes every few seconds: read when ours is due (arrival times stay exact) */
	if (o->rtcp_fd >= 0) {
		if (rtp_sock_open(&l->rtcp, o->rtcp_fd, on_rtcp_sock, l) == 0)
			l->open_socks++;
	}
	*out = l;
	return 0;
}

static void sock_closed(void *arg)
{
	struct media_leg *l = arg;
	if (--l->open_socks)
		return;
	void (*cb)(void *) = l->closed_cb;
	void *cb_arg = l->closed_arg;
	leg_free_parts(l);
	free(l);
	if (cb)
		cb(cb_arg);
}

void media_leg_close(struct media_leg *l, void (*cb)(void *arg), void *arg)
{
	l->closing = true;
	l->closed_cb = cb;
	l->closed_arg = arg;
	struct rtp_sock *rtcp = l->rtcp;
	rtp_sock_close(l->rtp, sock_closed, l);
	if (rtcp)
		rtp_sock_close(rtcp, sock_closed, l);
}

size_t media_leg_frame_samples(const struct media_leg *l)
{
	return l->room_frame;
}

uint32_t media_leg_codec_rate(const struct media_leg_opts *o)
{
	switch (o->codec) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return 8000;
	case MEDIA_CODEC_G722:
		return 16000;
	case MEDIA_CODEC_OPUS:
		return o->codec_o.rate ? o->codec_o.rate : 48000;
	case MEDIA_CODEC__COUNT:
		break;
	}
	return 0;
}

int media_leg_set_room_rate(struct media_leg *l, uint32_t room_rate)
{
	if (!room_rate_ok(room_rate))
		return SB_EINVAL;
	if (room_rate == l->o.room_rate)
		return 0;
	struct media_resampler *up = NULL, *down = NULL;
	int err;
	if ((err = media_resampler_new(&up, l->codec_rate, room_rate, 3)) ||
	    (err = media_resampler_new(&down, room_rate, l->codec_rate, 3))) {
		media_resampler_free(up);
		return err;
	}
	/* the FIFO holds decoded audio at the codec rate and a frame is resampled whole within
	 * one pull or push: nothing at the old room rate is left over */
	media_resampler_free(l->up);
	media_resampler_free(l->down);
	l->up = up;
	l->down = down;
	l->o.room_rate = room_rate;
	l->room_frame = room_rate / 50u;
	return 0;
}

static void check_timeouts(struct media_leg *l, uint64_t now)
{
	if (l->held || l->timed_out || !l->o.h || !l->o.h->timeout)
		return;
	enum media_leg_timeout why = 0;
	if (l->got_rtp) {
		if (now - l->last_rtp_ms >= l->o.rtp_timeout_ms)
			why = MEDIA_LEG_NO_RTP;
	} else if (now - l->answered_ms >= l->o.first_rtp_timeout_ms) {
		why = MEDIA_LEG_NO_RTP_AFTER_ANSWER;
	}
	if (why) {
		l->timed_out = true;
		l->o.h->timeout(l->o.arg, why);
	}
}

static void send_packet(struct media_leg *l, size_t len)
{
	if (!l->o.remote_len)
		return;
	if (l->srtp_tx && rtp_srtp_protect(l->srtp_tx, tl.pkt, &len, sizeof(tl.pkt))) {
		l->st.srtp_failures++;
		return;
	}
	if (rtp_sock_send(l->rtp, tl.pkt, len, (const struct sockaddr *)&l->o.remote,
			  l->o.remote_len) == 0) {
		l->st.tx_packets++;
		l->st.tx_bytes += len;
	}
}

static void send_rtcp(struct media_leg *l)
{
	struct rtcp_info in;
	memset(&in, 0, sizeof(in));
	in.ssrc = l->ssrc;
	if (l->tx_packets) {
		in.has_sr = true;
		in.ntp = rtcp_ntp_from_unix_ns(uv_hrtime());
		in.rtp_ts = l->ts;
		in.pkt_count = (uint32_t)l->tx_packets;
		in.octet_count = (uint32_t)l->tx_octets;
	}
	if (l->got_rtp) {
		rtp_rx_stats_report(&l->rx, &in.rb[0], uv_now(l->loop));
		in.n_rb = 1;
	}
	snprintf(in.cname, sizeof(in.cname), "switchboard-%08x", (unsigned)l->ssrc);
	size_t len = rtcp_build(tl.pkt, sizeof(tl.pkt) - RTP_SRTP_MAX_TRAILER, &in);
	if (!len)
		return;
	if (l->srtp_tx && rtp_srtp_protect_rtcp(l->srtp_tx, tl.pkt, &len, sizeof(tl.pkt)))
		return;
	struct rtp_sock *s = l->rtcp ? l->rtcp : l->rtp;
	const struct sockaddr_storage *dst = l->rtcp ? &l->o.remote_rtcp : &l->o.remote;
	socklen_t dlen = l->rtcp ? l->o.remote_rtcp_len : l->o.remote_len;
	if (dlen && rtp_sock_send(s, tl.pkt, len, (const struct sockaddr *)dst, dlen) == 0)
		l->st.rtcp_tx++;
}

/* Decoded audio at the codec rate for in-band DTMF (8 kHz: decimate 16/48 kHz by averaging). */
static void detect_inband(struct media_leg *l, const int16_t *pcm, size_t n)
{
	if (!l->detector)
		return;
	size_t step = l->codec_rate / 8000u;
	const int16_t *in = pcm;
	size_t m = n;
	if (step > 1) {
		m = n / step;
		for (size_t i = 0; i < m; i++) {
			int32_t acc = 0;
			for (size_t k = 0; k < step; k++)
				acc += pcm[i * step + k];
			tl.scratch2[i] = (int16_t)(acc / (int32_t)step);
		}
		in = tl.scratch2;
	}
	char digits[8];
	size_t nd = media_dtmf_detect(l->detector, in, m, digits, sizeof(digits));
	for (size_t i = 0; i < nd; i++)
		if (l->o.h && l->o.h->dtmf)
			l->o.h->dtmf(l->o.arg, digits[i], 0, true);
}

/* Decode what the jitter buffer gives (or conceal what it lost) until a frame is ready in the
 * FIFO. direct (the room mixes at the codec's rate and the FIFO is empty): the first packet is
 * decoded straight into the room's frame, and when it is exactly one frame that is all (true:
 * direct holds it, nothing copied); a shorter one moves to the FIFO, a longer one is decoded
 * into the FIFO instead (a decoder refuses a short buffer before touching its state). */
static bool fill_fifo(struct media_leg *l, uint64_t now, int16_t *direct)
{
	while (l->fifo_n < l->codec_frame) {
		struct media_jb_frame f;
		enum media_jb_get_result r = media_jb_get(&l->jb, now, &f);
		if (r == MEDIA_JB_EMPTY)
			return false;
		int16_t *dst = l->fifo + l->fifo_n;
		size_t room = l->fifo_cap - l->fifo_n;
		int n;
		if (r == MEDIA_JB_FRAME && direct && l->fifo_n == 0) {
			n = media_codec_decode(l->codec, f.payload, f.len, direct, l->codec_frame);
			if (n == (int)l->codec_frame) {
				detect_inband(l, direct, (size_t)n);
				return true;
			}
			if (n > 0)
				memcpy(dst, direct, (size_t)n * sizeof(*dst));
			else
				n = media_codec_decode(l->codec, f.payload, f.len, dst, room);
		} else if (r == MEDIA_JB_FRAME) {
			n = media_codec_decode(l->codec, f.payload, f.len, dst, room);
		} else {
			size_t want = (size_t)f.samples * l->codec_rate / l->rtp_rate;
			if (want == 0 || want > room)
				want = l->codec_frame < room ? l->codec_frame : room;
			n = media_codec_conceal(l->codec, f.next_payload, f.next_len, dst, want);
			l->st.concealed++;
		}
		if (n <= 0)
			return false;
		detect_inband(l, dst, (size_t)n);
		l->fifo_n += (size_t)n;
	}
	return false;
}

bool media_leg_pull(struct media_leg *l, uint64_t now_ms, int16_t *pcm)
{
	rtp_sock_drain(l->rtp, now_ms);
	check_timeouts(l, now_ms);
	if (now_ms >= l->next_rtcp_ms) {
		l->next_rtcp_ms = now_ms + RTCP_INTERVAL_MS;
		if (l->rtcp)
			rtp_sock_drain(l->rtcp, now_ms);
		send_rtcp(l);
	}
	if (l->held)
		return false;
	bool direct = l->fifo_n == 0 && l->room_frame == l->codec_frame;
	if (fill_fifo(l, now_ms, direct ? pcm : NULL))
		return true;
	if (l->fifo_n < l->codec_frame)
		return false;
	int n = media_resample(l->up, l->fifo, l->codec_frame, pcm, l->room_frame);
	l->fifo_n -= l->codec_frame;
	memmove(l->fifo, l->fifo + l->codec_frame, l->fifo_n * sizeof(*l->fifo));
	if (n < (int)l->room_frame) {
		if (n < 0)
			n = 0;
		memset(pcm + n, 0, (l->room_frame - (size_t)n) * sizeof(*pcm));
	}
	return true;
}

static void send_dtmf_events(struct media_leg *l, uint32_t ms)
{
	struct media_dtmf_tx_pkt p[3];
	size_t n = media_dtmf_tx_tick(&l->dtmf_tx, ms, p);
	for (size_t i = 0; i < n; i++) {
		if (p[i].marker) {
			l->dtmf_ts = l->ts;
			l->dtmf_event_open = true;
		}
		size_t hl = rtp_write_header(tl.pkt, sizeof(tl.pkt), (uint8_t)l->o.te_pt,
					     p[i].marker, l->seq++, l->dtmf_ts, l->ssrc);
		size_t pl = media_dtmf_event_write(tl.pkt + hl, sizeof(tl.pkt) - hl, &p[i].ev);
		send_packet(l, hl + pl);
		if (p[i].ev.end)
			l->dtmf_event_open = false;
	}
}

void media_leg_push(struct media_leg *l, uint64_t now_ms, const int16_t *pcm)
{
	(void)now_ms;
	if (l->held || l->closing)
		return;
	bool keys = media_dtmf_tx_busy(&l->dtmf_tx);
	if (keys && l->o.te_pt >= 0) {
		send_dtmf_events(l, 20);
		if (l->dtmf_event_open || media_dtmf_tx_current(&l->dtmf_tx)) {
			l->ts += l->ts_frame; /* audio paused while an event is sent */
			return;
		}
	}
	bool inband = keys && l->o.te_pt < 0 && l->gen;
	const int16_t *src = tl.scratch;
	int16_t *frame = tl.scratch;
	if (pcm && l->room_frame == l->codec_frame && !l->tone_on && !inband) {
		src = pcm; /* the room mixes at the codec's rate: encode its frame as it is */
	} else if (pcm) {
		int n = media_resample(l->down, pcm, l->room_frame, frame, l->codec_frame);
		if (n < (int)l->codec_frame)
			memset(frame + (n > 0 ? n : 0), 0,
			       (l->codec_frame - (size_t)(n > 0 ? n : 0)) * sizeof(*frame));
	} else {
		memset(frame, 0, l->codec_frame * sizeof(*frame));
	}
	if (l->tone_on)
		media_tone_fill(&l->tone, frame, l->codec_frame);
	if (inband) {
		/* in-band keys at 8 kHz, sample-repeated to the codec rate */
		struct media_dtmf_tx_pkt p[3];
		(void)media_dtmf_tx_tick(&l->dtmf_tx, 20, p);
		char key = media_dtmf_tx_current(&l->dtmf_tx);
		size_t step = l->codec_rate / 8000u, m = l->codec_frame / step;
		media_dtmf_gen_fill(l->gen, key, tl.scratch2, m);
		if (key)
			for (size_t i = 0; i < l->codec_frame; i++)
				frame[i] = tl.scratch2[i / step];
	}
	size_t hl = rtp_write_header(tl.pkt, sizeof(tl.pkt), l->o.pt, l->marker_next, l->seq++,
				     l->ts, l->ssrc);
	int pl = media_codec_encode(l->codec, src, l->codec_frame, tl.pkt + hl,
				    sizeof(tl.pkt) - hl - RTP_SRTP_MAX_TRAILER);
	l->ts += l->ts_frame;
	if (pl < 0)
		return;
	l->marker_next = false;
	l->tx_packets++;
	l->tx_octets += (uint64_t)pl;
	send_packet(l, hl + (size_t)pl);
}

void media_leg_set_hold(struct media_leg *l, bool held)
{
	if (l->held == held)
		return;
	l->held = held;
	if (!held) {
		/* timeouts count again from now; the next packet starts a new talk spurt */
		uint64_t now = uv_now(l->loop);
		l->last_rtp_ms = now;
		l->answered_ms = now;
		l->marker_next = true;
		media_jb_reset(&l->jb);
		l->fifo_n = 0;
	}
}

/* New SDES keys from a re-INVITE or UPDATE: a direction whose suite or key changed gets a new
 * context; an unchanged one keeps its own (its rollover counter included). */
static int update_srtp(struct media_leg *l, const struct media_leg_opts *o)
{
	bool suite = o->srtp != l->o.srtp;
	bool tx = suite || memcmp(o->srtp_tx_key, l->o.srtp_tx_key, RTP_SRTP_KEY_LEN) != 0;
	bool rx = suite || memcmp(o->srtp_rx_key, l->o.srtp_rx_key, RTP_SRTP_KEY_LEN) != 0;
	if (!tx && !rx)
		return 0;
	struct rtp_srtp *ntx = NULL, *nrx = NULL;
	int err = 0;
	if (o->srtp != RTP_SRTP_NONE) {
		if (tx)
			err = rtp_srtp_new(&ntx, o->srtp, o->srtp_tx_key, true);
		if (!err && rx)
			err = rtp_srtp_new(&nrx, o->srtp, o->srtp_rx_key, false);
		if (err) {
			rtp_srtp_free(ntx);
			return err;
		}
	}
	if (tx) {
		rtp_srtp_free(l->srtp_tx);
		l->srtp_tx = ntx;
		memcpy(l->o.srtp_tx_key, o->srtp_tx_key, RTP_SRTP_KEY_LEN);
	}
	if (rx) {
		rtp_srtp_free(l->srtp_rx);
		l->srtp_rx = nrx;
		memcpy(l->o.srtp_rx_key, o->srtp_rx_key, RTP_SRTP_KEY_LEN);
	}
	l->o.srtp = o->srtp;
	return 0;
}

int media_leg_update(struct media_leg *l, const struct media_leg_opts *o)
{
	int err = check_opts(o);
	if (err)
		return err;
	/* keys in-band only without telephone-event, as media_leg_new sets it up */
	if (o->te_pt < 0 && !l->detector && (err = media_dtmf_detector_new(&l->detector)) != 0)
		return err;
	if (o->te_pt < 0 && !l->gen && (err = media_dtmf_gen_new(&l->gen)) != 0)
		return err;
	if (o->te_pt >= 0 && l->detector) {
		media_dtmf_detector_free(l->detector);
		l->detector = NULL;
	}
	if (o->remote_len && !same_addr((const struct sockaddr *)&o->remote, &l->o.remote)) {
		l->o.remote = o->remote;
		l->o.remote_len = o->remote_len;
		l->latched = true;
		l->last_latched_rx_ms = 0;
	}
	if (o->remote_rtcp_len) {
		l->o.remote_rtcp = o->remote_rtcp;
		l->o.remote_rtcp_len = o->remote_rtcp_len;
	}
	if ((err = update_srtp(l, o)) != 0)
		return err;
	l->o.te_pt = o->te_pt;
	if (o->codec != l->o.codec || o->pt != l->o.pt) {
		struct media_codec *old = l->codec;
		struct media_resampler *up = l->up, *down = l->down;
		int16_t *fifo = l->fifo;
		l->o.codec = o->codec;
		l->o.pt = o->pt;
		l->codec = NULL;
		l->up = l->down = NULL;
		l->fifo = NULL;
		err = setup_codec(l);
		if (err) {
			media_codec_free(l->codec);
			media_resampler_free(l->up);
			media_resampler_free(l->down);
			free(l->fifo);
			l->codec = old;
			l->up = up;
			l->down = down;
			l->fifo = fifo;
			return err;
		}
		media_codec_free(old);
		media_resampler_free(up);
		media_resampler_free(down);
		free(fifo);
		l->fifo_n = 0;
		l->marker_next = true;
		l->dtmf_tx.rate = l->rtp_rate; /* event durations in the new clock's units */
		if (l->tone_on)
			(void)media_tone_init(&l->tone, l->tone_kind, l->tone_region, l->codec_rate,
					      -13);
	}
	return 0;
}

int media_leg_play_tone(struct media_leg *l, enum media_tone_kind kind,
			enum media_tone_region region, bool on)
{
	if (!on) {
		l->tone_on = false;
		return 0;
	}
	int err = media_tone_init(&l->tone, kind, region, l->codec_rate, -13);
	if (err)
		return err;
	l->tone_on = true;
	l->tone_kind = kind;
	l->tone_region = region;
	return 0;
}

int media_leg_send_dtmf(struct media_leg *l, const char *keys)
{
	return media_dtmf_tx_queue(&l->dtmf_tx, keys);
}

void media_leg_stats(const struct media_leg *l, struct media_leg_stats *out)
{
	*out = l->st;
	struct media_jb_stats js;
	media_jb_stats(&l->jb, &js);
	out->lost = js.lost;
	out->late = js.late;
	out->jb_resets = js.resets;
	out->jb_delay_ms = js.delay_ms;
	out->jitter_ms = l->rtp_rate ? rtp_rx_stats_jitter(&l->rx) * 1000u / l->rtp_rate : 0;
	out->rtt_ms = l->rx.rtt_ms;
	out->latched = l->latched;
}
