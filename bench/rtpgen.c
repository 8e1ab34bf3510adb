/* bench_rtpgen: the media side of the concurrent-calls benchmark (bench/media.sh). Owns the RTP
 * streams of every call: one shared socket, a 50 packets/s stream per source, loss counting. */
/*
 * Two modes:
 *   answer (default): every new source address that sends RTP to --port gets its own stream
 *     back (symmetric RTP, as a SIP peer would do), paced at 20 ms on CLOCK_MONOTONIC; a
 *     stream stops once its source is silent for --quiet-ms. Received packets are counted per
 *     source, sequence gaps are losses (RFC 3550 expected - received).
 *   call (--to HOST:PORT --streams N --rate R): N streams to one fixed address (an RTP echo)
 *     started R per second; echoed packets are matched by SSRC, so gaps are losses of both
 *     directions.
 *
 * The audio is a speech-like signal (harmonics of a gliding 100-220 Hz voice through three
 * formants, 4 Hz syllables) encoded once at start-up with the codec under test (4 s loop), so
 * the generator spends nothing on codecs per packet. A few "probe" streams decode what comes
 * back and count the frames that carry audio (the echo really echoes).
 *
 * One thread, 1 ms slots: each stream sends in its own slot of the 20 ms period (streams spread
 * evenly), with sendmmsg batches; between slots the thread sleeps without watching its socket
 * and then reads what queued (recvmmsg), so the target's sends never pay for waking us.
 *
 * SIGUSR1 prints a "snap" line with the running totals (bench/media.sh takes two of them
 * around its measuring window); SIGTERM, SIGINT or --duration end the run and print "final".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "media/codec.h"
#include "rtp/packet.h"

#define SLOTS	    20 /* 1 ms slots of the 20 ms period */
#define FRAME_NS    20000000LL
#define SLOT_NS	    1000000LL
#define BATCH	    64
#define LOOP_FRAMES 200 /* 4 s of pre-encoded audio */
#define PAYLOAD_MAX 1200
#define HTAB_BITS   16
#define MAX_PROBES  64
#define MAX_STALL   200 /* slots: catch up at most 200 ms after a stall */

struct stream {
	uint64_t key; /* answer: address; call: unused */
	struct sockaddr_in dst;
	bool active;
	uint8_t slot;
	uint32_t slot_idx; /* position in its slot's list */
	uint32_t ssrc, ts, pos;
	uint16_t seq;
	int64_t last_rx_ns;
	/* receive side: one epoch per remote SSRC */
	bool rx_started;
	uint32_t rx_ssrc, cycles, base;
	uint16_t max_seq;
	uint64_t received, epoch_received, lost_closed, reordered, dups;
	struct media_codec *probe;
};

struct frame {
	uint8_t data[PAYLOAD_MAX];
	uint16_t len;
};

static struct {
	/* options */
	enum media_codec_id codec;
	uint8_t pt;
	struct media_codec_opts copts;
	struct sockaddr_in bind, to;
	bool call_mode;
	uint32_t n_streams_call, rate, max_streams, probe_every, quiet_ms;
	double duration_s;
	/* state */
	int fd, rtcp_fd;
	struct frame loop[LOOP_FRAMES];
	uint32_t ts_frame;
	struct stream *streams;
	uint32_t n_streams; /* ever started (answer: distinct sources) */
	uint32_t n_active, n_probes;
	int32_t *htab; /* answer mode: address -> stream index, -1 empty */
	uint32_t *slot_list[SLOTS];
	uint32_t slot_n[SLOTS], slot_cap[SLOTS];
	int64_t t0, last_slot;
	uint64_t sent, tx_errors, rx_packets, rx_other, rx_rtcp, refused, ssrc_changes;
	uint64_t stalls, max_late_us, probe_frames, probe_audible;
} g = {.fd = -1, .rtcp_fd = -1};

static volatile sig_atomic_t got_term, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: bench_rtpgen --port P [--bind IP] [--codec pcmu|pcma|g722|opus] [--pt N]\n"
	    "         [--opus-rate HZ] [--opus-complexity N] [--max-streams N]\n"
	    "         [--probe-every N] [--quiet-ms MS] [--duration S]\n"
	    "         [--to IP:PORT --streams N --rate R]   (call mode, against an RTP echo)\n");
	exit(2);
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		return -1;
	a->sin_port = htons((uint16_t)port);
	return 0;
}

static uint32_t num(const char *s, uint32_t max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || end == s || v > max)
		usage();
	return (uint32_t)v;
}

static void parse_args(int argc, char **argv)
{
	const char *bind_ip = "127.0.0.1";
	uint32_t port = 0;
	int pt = -1;
	g.codec = MEDIA_CODEC_PCMU;
	g.copts.rate = 16000;
	g.copts.complexity = 5;
	g.max_streams = 16384;
	g.probe_every = 50;
	g.quiet_ms = 1000;
	g.rate = 100;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--port")) {
			port = num(v, 65535);
		} else if (!strcmp(a, "--bind")) {
			bind_ip = v;
		} else if (!strcmp(a, "--codec")) {
			if (!strcmp(v, "pcmu"))
				g.codec = MEDIA_CODEC_PCMU;
			else if (!strcmp(v, "pcma"))
				g.codec = MEDIA_CODEC_PCMA;
			else if (!strcmp(v, "g722"))
				g.codec = MEDIA_CODEC_G722;
			else if (!strcmp(v, "opus"))
				g.codec = MEDIA_CODEC_OPUS;
			else
				usage();
		} else if (!strcmp(a, "--pt")) {
			pt = (int)num(v, 127);
		} else if (!strcmp(a, "--opus-rate")) {
			g.copts.rate = num(v, 48000);
		} else if (!strcmp(a, "--opus-complexity")) {
			g.copts.complexity = (int)num(v, 10);
		} else if (!strcmp(a, "--max-streams")) {
			g.max_streams = num(v, 1u << (HTAB_BITS - 1));
		} else if (!strcmp(a, "--probe-every")) {
			g.probe_every = num(v, 1000000);
		} else if (!strcmp(a, "--quiet-ms")) {
			g.quiet_ms = num(v, 3600000);
		} else if (!strcmp(a, "--duration")) {
			g.duration_s = num(v, 86400);
		} else if (!strcmp(a, "--to")) {
			if (parse_addr(v, &g.to))
				usage();
			g.call_mode = true;
		} else if (!strcmp(a, "--streams")) {
			g.n_streams_call = num(v, 1u << (HTAB_BITS - 1));
		} else if (!strcmp(a, "--rate")) {
			g.rate = num(v, 100000);
		} else {
			usage();
		}
	}
	if (!port || !g.max_streams || (g.call_mode && (!g.n_streams_call || !g.rate)))
		usage();
	if (g.call_mode && g.n_streams_call > g.max_streams)
		g.max_streams = g.n_streams_call;
	static const uint8_t def_pt[MEDIA_CODEC__COUNT] = {0, 8, 9, 111};
	g.pt = pt >= 0 ? (uint8_t)pt : def_pt[g.codec];
	memset(&g.bind, 0, sizeof(g.bind));
	g.bind.sin_family = AF_INET;
	g.bind.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_ip, &g.bind.sin_addr) != 1)
		usage();
}

/* Speech-like: harmonics of a gliding fundamental shaped by three formants, syllable envelope
 * that never falls silent (every frame carries audio), a little noise. */
static void make_signal(int16_t *pcm, size_t n, uint32_t rate)
{
	static const double formant[3] = {700, 1220, 2600}, bw[3] = {130, 170, 250};
	double phase = 0;
	uint32_t noise = 12345;
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate;
		double f0 = 160 + 60 * sin(2 * M_PI * 0.7 * t) * cos(2 * M_PI * 0.23 * t);
		phase += 2 * M_PI * f0 / rate;
		double s = 0;
		for (int h = 1; h * f0 < rate * 0.45 && h <= 40; h++) {
			double f = h * f0, amp = 0;
			for (int k = 0; k < 3; k++) {
				double d = (f - formant[k]) / bw[k];
				amp += 1.0 / (1.0 + d * d) / (k + 1);
			}
			s += amp * sin(h * phase);
		}
		double env = 0.35 + 0.65 * fabs(sin(2 * M_PI * 2.0 * t));
		noise = noise * 1103515245u + 12345u;
		double nz = ((double)(noise >> 16 & 0x7fff) / 32768.0 - 0.5) * 0.02;
		double v = (0.25 * s * env + nz) * 12000.0;
		if (v > 32767)
			v = 32767;
		if (v < -32768)
			v = -32768;
		pcm[i] = (int16_t)v;
	}
}

static int prepare_audio(void)
{
	struct media_codec *c;
	int err = media_codec_new(&c, g.codec, &g.copts);
	if (err) {
		fprintf(stderr, "rtpgen: codec: error %d\n", err);
		return -1;
	}
	uint32_t rate = media_codec_rate(c), frame = rate / 50u;
	g.ts_frame = media_codec_rtp_rate(c) / 50u;
	int16_t *pcm = calloc((size_t)frame * LOOP_FRAMES, sizeof(*pcm));
	if (!pcm) {
		media_codec_free(c);
		return -1;
	}
	make_signal(pcm, (size_t)frame * LOOP_FRAMES, rate);
	for (int i = 0; i < LOOP_FRAMES; i++) {
		int n = media_codec_encode(c, pcm + (size_t)i * frame, frame, g.loop[i].data,
					   sizeof(g.loop[i].data));
		if (n <= 0) {
			fprintf(stderr, "rtpgen: encode: error %d\n", n);
			free(pcm);
			media_codec_free(c);
			return -1;
		}
		g.loop[i].len = (uint16_t)n;
	}
	free(pcm);
	media_codec_free(c);
	return 0;
}

static int open_socket(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int sz = 32 << 20;
	/* FORCE needs CAP_NET_ADMIN; otherwise the sysctl maximum applies */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sz = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_in a = g.bind;
	a.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "rtpgen: bind port %u: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static uint64_t addr_key(const struct sockaddr_in *a)
{
	return (uint64_t)a->sin_addr.s_addr << 16 | a->sin_port;
}

static uint32_t hash_key(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (uint32_t)k & ((1u << HTAB_BITS) - 1);
}

static int slot_add(struct stream *s, uint32_t idx)
{
	uint8_t sl = s->slot;
	if (g.slot_n[sl] == g.slot_cap[sl]) {
		uint32_t cap = g.slot_cap[sl] ? g.slot_cap[sl] * 2 : 256;
		void *p = realloc(g.slot_list[sl], cap * sizeof(uint32_t));
		if (!p)
			return -1;
		g.slot_list[sl] = p;
		g.slot_cap[sl] = cap;
	}
	s->slot_idx = g.slot_n[sl];
	g.slot_list[sl][g.slot_n[sl]++] = idx;
	return 0;
}

static void slot_remove(struct stream *s)
{
	uint8_t sl = s->slot;
	uint32_t last = g.slot_list[sl][--g.slot_n[sl]];
	g.slot_list[sl][s->slot_idx] = last;
	g.streams[last].slot_idx = s->slot_idx;
}

/* Start (or restart) stream idx sending to dst. */
static int stream_start(uint32_t idx, const struct sockaddr_in *dst)
{
	struct stream *s = &g.streams[idx];
	s->dst = *dst;
	s->active = true;
	s->slot = (uint8_t)(idx % SLOTS);
	if (!s->ssrc)
		s->ssrc = 0x5b000000u + idx;
	s->seq = (uint16_t)(idx * 7919u);
	s->ts = idx * 104729u;
	s->pos = (idx * 37u) % LOOP_FRAMES;
	s->last_rx_ns = mono_ns();
	if (!s->probe && g.probe_every && idx % g.probe_every == 0 && g.n_probes < MAX_PROBES &&
	    media_codec_new(&s->probe, g.codec, &g.copts) == 0)
		g.n_probes++;
	if (slot_add(s, idx))
		return -1;
	g.n_active++;
	return 0;
}

static void stream_stop(struct stream *s)
{
	if (!s->active)
		return;
	slot_remove(s);
	s->active = false;
	g.n_active--;
}

/* A new source in answer mode: its own stream back to it. */
static struct stream *stream_for_source(const struct sockaddr_in *src)
{
	uint64_t key = addr_key(src);
	uint32_t h = hash_key(key);
	for (;;) {
		int32_t i = g.htab[h];
		if (i < 0)
			break;
		if (g.streams[i].key == key) {
			struct stream *s = &g.streams[i];
			if (!s->active && stream_start((uint32_t)i, src))
				return NULL;
			return s;
		}
		h = (h + 1) & ((1u << HTAB_BITS) - 1);
	}
	if (g.n_streams >= g.max_streams) {
		g.refused++;
		return NULL;
	}
	uint32_t idx = g.n_streams++;
	g.htab[h] = (int32_t)idx;
	g.streams[idx].key = key;
	if (stream_start(idx, src))
		return NULL;
	return &g.streams[idx];
}

static uint64_t epoch_expected(const struct stream *s)
{
	if (!s->rx_started)
		return 0;
	return (uint64_t)s->cycles + s->max_seq - s->base + 1;
}

static uint64_t stream_lost(const struct stream *s)
{
	uint64_t exp = epoch_expected(s);
	return s->lost_closed + (exp > s->epoch_received ? exp - s->epoch_received : 0);
}

static void probe_frame(struct stream *s, const uint8_t *p, size_t len)
{
	int16_t pcm[960];
	int n = media_codec_decode(s->probe, p, len, pcm, sizeof(pcm) / sizeof(pcm[0]));
	if (n <= 0)
		return;
	double e = 0;
	for (int i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];
	g.probe_frames++;
	if (sqrt(e / n) > 200.0) /* about -44 dBFS; the signal sent never drops below -25 dBFS */
		g.probe_audible++;
}

static void on_packet(const uint8_t *p, size_t len, const struct sockaddr_in *src, int64_t now)
{
	g.rx_packets++;
	if (rtp_is_rtcp(p, len)) { /* RTCP on the RTP port */
		g.rx_rtcp++;
		return;
	}
	struct rtp_hdr h;
	if (rtp_parse(p, len, &h)) {
		g.rx_other++;
		return;
	}
	uint8_t pt = h.pt;
	uint16_t seq = h.seq;
	uint32_t ssrc = h.ssrc;
	struct stream *s;
	if (g.call_mode) {
		uint32_t idx = ssrc - 0x5b000000u;
		if (idx >= g.n_streams) {
			g.rx_other++;
			return;
		}
		s = &g.streams[idx];
	} else {
		s = stream_for_source(src);
		if (!s)
			return;
	}
	s->last_rx_ns = now;
	if (pt != g.pt) {
		g.rx_other++;
		return;
	}
	if (!s->rx_started || s->rx_ssrc != ssrc) {
		if (s->rx_started) {
			s->lost_closed = stream_lost(s);
			g.ssrc_changes++;
		}
		s->rx_started = true;
		s->rx_ssrc = ssrc;
		s->base = seq;
		s->max_seq = seq;
		s->cycles = 0;
		s->epoch_received = 0;
	} else {
		int16_t d = (int16_t)(seq - s->max_seq);
		if (d == 0) {
			s->dups++;
			return;
		}
		if (d > 0) {
			if (seq < s->max_seq)
				s->cycles += 65536;
			s->max_seq = seq;
		} else {
			s->reordered++;
		}
	}
	s->received++;
	s->epoch_received++;
	if (s->probe && h.payload_len)
		probe_frame(s, h.payload, h.payload_len);
}

static void drain(int fd, bool rtcp, int64_t now)
{
	static uint8_t buf[BATCH][1500];
	static struct sockaddr_in src[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msg[BATCH];
	for (int round = 0; round < 64; round++) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &src[i];
			msg[i].msg_hdr.msg_namelen = sizeof(src[i]);
		}
		int n = recvmmsg(fd, msg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (rtcp)
				g.rx_rtcp++;
			else if (src[i].sin_family == AF_INET)
				on_packet(buf[i], msg[i].msg_len, &src[i], now);
		}
		if (n < BATCH)
			return;
	}
}

static struct {
	uint8_t hdr[BATCH][12];
	struct iovec iov[BATCH][2];
	struct mmsghdr msg[BATCH];
	int n;
} tx;

static void flush_tx(void)
{
	int off = 0;
	while (off < tx.n) {
		int r = sendmmsg(g.fd, tx.msg + off, (unsigned)(tx.n - off), MSG_DONTWAIT);
		if (r <= 0) {
			/* a full socket buffer or an unreachable port: that packet is gone */
			g.tx_errors++;
			off++;
			continue;
		}
		g.sent += (uint64_t)r;
		off += r;
	}
	tx.n = 0;
}

static void queue_packet(struct stream *s)
{
	int i = tx.n++;
	const struct frame *f = &g.loop[s->pos];
	uint8_t *h = tx.hdr[i];
	rtp_write_header(h, RTP_HDR_LEN, g.pt, false, s->seq, s->ts, s->ssrc);
	tx.iov[i][0].iov_base = h;
	tx.iov[i][0].iov_len = 12;
	tx.iov[i][1].iov_base = (void *)(uintptr_t)f->data;
	tx.iov[i][1].iov_len = f->len;
	memset(&tx.msg[i].msg_hdr, 0, sizeof(tx.msg[i].msg_hdr));
	tx.msg[i].msg_hdr.msg_iov = tx.iov[i];
	tx.msg[i].msg_hdr.msg_iovlen = 2;
	tx.msg[i].msg_hdr.msg_name = &s->dst;
	tx.msg[i].msg_hdr.msg_namelen = sizeof(s->dst);
	s->seq++;
	s->ts += g.ts_frame;
	s->pos = (s->pos + 1) % LOOP_FRAMES;
	if (tx.n == BATCH)
		flush_tx();
}

static void run_slot(int64_t slot)
{
	uint32_t sl = (uint32_t)(slot % SLOTS);
	for (uint32_t k = 0; k < g.slot_n[sl]; k++)
		queue_packet(&g.streams[g.slot_list[sl][k]]);
	flush_tx();
}

static void report(const char *what, int64_t now)
{
	uint64_t lost = 0, reordered = 0, dups = 0, received = 0;
	for (uint32_t i = 0; i < g.n_streams; i++) {
		lost += stream_lost(&g.streams[i]);
		reordered += g.streams[i].reordered;
		dups += g.streams[i].dups;
		received += g.streams[i].received;
	}
	double pct = received + lost ? 100.0 * (double)lost / (double)(received + lost) : 0;
	printf("rtpgen: %s t=%.3f mode=%s codec=%s streams=%u active=%u sent=%llu received=%llu "
	       "lost=%llu loss_pct=%.4f reordered=%llu dups=%llu tx_errors=%llu other=%llu "
	       "rtcp=%llu refused=%llu ssrc_changes=%llu stalls=%llu max_late_us=%llu "
	       "probes=%u probe_frames=%llu probe_audible=%llu\n",
	       what, (double)(now - g.t0) / 1e9, g.call_mode ? "call" : "answer",
	       media_codec_name(g.codec), g.n_streams, g.n_active, (unsigned long long)g.sent,
	       (unsigned long long)received, (unsigned long long)lost, pct,
	       (unsigned long long)reordered, (unsigned long long)dups,
	       (unsigned long long)g.tx_errors, (unsigned long long)g.rx_other,
	       (unsigned long long)g.rx_rtcp, (unsigned long long)g.refused,
	       (unsigned long long)g.ssrc_changes, (unsigned long long)g.stalls,
	       (unsigned long long)g.max_late_us, g.n_probes, (unsigned long long)g.probe_frames,
	       (unsigned long long)g.probe_audible);
	g.max_late_us = 0;
	fflush(stdout);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	if (prepare_audio())
		return 2;
	g.streams = calloc(g.max_streams, sizeof(*g.streams));
	g.htab = malloc(sizeof(int32_t) << HTAB_BITS);
	if (!g.streams || !g.htab)
		return 2;
	memset(g.htab, 0xff, sizeof(int32_t) << HTAB_BITS);
	uint16_t port = ntohs(g.bind.sin_port);
	g.fd = open_socket(port);
	if (g.fd < 0)
		return 2;
	/* RTCP goes to port + 1 (no rtcp-mux offered): absorb it so no ICMP flows back */
	if (port < 65535)
		g.rtcp_fd = open_socket((uint16_t)(port + 1));

	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&none);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	printf("rtpgen: ready port=%u codec=%s pt=%u payload=%u bytes mode=%s\n", port,
	       media_codec_name(g.codec), g.pt, g.loop[0].len, g.call_mode ? "call" : "answer");
	fflush(stdout);

	g.t0 = mono_ns();
	g.last_slot = -1;
	int64_t next_create = g.t0, next_scan = g.t0 + 100 * SLOT_NS;
	int64_t create_step = g.call_mode ? 1000000000LL / g.rate : 0;
	int64_t end = g.duration_s > 0 ? g.t0 + (int64_t)(g.duration_s * 1e9) : 0;
	while (!got_term) {
		int64_t now = mono_ns();
		if (end && now >= end)
			break;
		if (got_usr1) {
			got_usr1 = 0;
			report("snap", now);
		}
		while (g.call_mode && g.n_streams < g.n_streams_call && now >= next_create) {
			uint32_t idx = g.n_streams++;
			if (stream_start(idx, &g.to))
				return 2;
			next_create += create_step;
		}
		int64_t slot = (now - g.t0) / SLOT_NS;
		if (slot > g.last_slot) {
			int64_t late_us = (now - g.t0 - slot * SLOT_NS) / 1000;
			if ((uint64_t)late_us > g.max_late_us)
				g.max_late_us = (uint64_t)late_us;
			if (slot - g.last_slot > MAX_STALL) {
				g.stalls++;
				g.last_slot = slot - 1;
			}
			for (int64_t k = g.last_slot + 1; k <= slot; k++)
				run_slot(k);
			g.last_slot = slot;
		}
		if (!g.call_mode && now >= next_scan) {
			next_scan = now + 100 * SLOT_NS;
			int64_t quiet = (int64_t)g.quiet_ms * 1000000LL;
			for (uint32_t i = 0; i < g.n_streams; i++)
				if (g.streams[i].active && now - g.streams[i].last_rx_ns > quiet)
					stream_stop(&g.streams[i]);
		}
		int64_t wake = g.t0 + (g.last_slot + 1) * SLOT_NS;
		if (end && end < wake)
			wake = end;
		int64_t wait = wake - mono_ns();
		if (wait < 0)
			wait = 0;
		struct timespec tmo = {.tv_sec = wait / 1000000000LL,
				       .tv_nsec = wait % 1000000000LL};
		/* Sleep without watching the sockets, then read what queued up: a sender never has
		 * to wake us (on loopback that wake-up, an IPI, is charged to the sender's sendto
		 * and would inflate the CPU measured for the target). 1 ms of packets fits the
		 * buffer. */
		(void)ppoll(NULL, 0, &tmo, &none);
		now = mono_ns();
		drain(g.fd, false, now);
		if (g.rtcp_fd >= 0)
			drain(g.rtcp_fd, true, now);
	}
	report("final", mono_ns());
	uint64_t lost = 0, received = 0;
	for (uint32_t i = 0; i < g.n_streams; i++) {
		lost += stream_lost(&g.streams[i]);
		received += g.streams[i].received;
		if (g.streams[i].probe)
			media_codec_free(g.streams[i].probe);
	}
	printf("rtpgen: streams seen %u, packets sent %llu, received %llu, lost %llu (%.4f %%)\n",
	       g.n_streams, (unsigned long long)g.sent, (unsigned long long)received,
	       (unsigned long long)lost,
	       received + lost ? 100.0 * (double)lost / (double)(received + lost) : 0.0);
	close(g.fd);
	if (g.rtcp_fd >= 0)
		close(g.rtcp_fd);
	for (int i = 0; i < SLOTS; i++)
		free(g.slot_list[i]);
	free(g.streams);
	free(g.htab);
	return 0;
}
