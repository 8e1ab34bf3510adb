/* tone_peer: the media side of a test caller. Sends a sine of one frequency as RTP in a given
 * codec from its own port to HOST:PORT (switchboard's port from the SDP answer), decodes what
 * comes back with the same codec and measures, by Goertzel, how much of the received energy
 * sits at the frequencies it should and should not hear. Used with SIPp for the signalling.
 *
 *   tone_peer HOST PORT BIND_PORT CODEC PT SEND_HZ SECONDS OUTFILE [EXPECT_HZ [ABSENT_HZ
 *             [SRTP_TAG_BITS OUR_KEY REMOTE_KEY]]]
 *
 * With SRTP_TAG_BITS 80 or 32 the RTP is SRTP (AES_CM_128_HMAC_SHA1_xx): sent with OUR_KEY and
 * received with REMOTE_KEY, both SDES key-params ("inline:..."). A frequency of 0 skips its check.
 * CODEC pcmu, pcma, g722 or opus. SEND_HZ "dtmf:KEYS" sends the keys as in-band DTMF instead
 * (8 kHz codecs: 100 ms of each key's tone pair, then 100 ms of silence). Writes "received N expect
 * P absent Q" (P, Q in percent of the energy after the first 500 ms) to OUTFILE and stdout. Exit 0
 * when N >= 80 % of the packets sent, P >= 40 and Q <= 5 (each check only when its frequency is
 * given); 1 if not; 2 on usage or socket errors. Bounded: SECONDS + 1.5 s.
 *
 *   tone_peer --wav FILE HZ SECONDS RATE   writes a sine as a WAV file (music on hold). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "media/codec.h"
#include "media/dtmf.h"
#include "media/wav.h"
#include "rtp/packet.h"
#include "rtp/srtp.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct meter {
	double hz[2], coeff[2], power[2], energy;
};

static void meter_block(struct meter *m, const int16_t *x, size_t n)
{
	for (int k = 0; k < 2; k++) {
		if (m->hz[k] <= 0)
			continue;
		double s1 = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			double s0 = x[i] + m->coeff[k] * s1 - s2;
			s2 = s1;
			s1 = s0;
		}
		m->power[k] += (s1 * s1 + s2 * s2 - m->coeff[k] * s1 * s2) * 2.0 / (double)n;
	}
	for (size_t i = 0; i < n; i++)
		m->energy += (double)x[i] * x[i];
}

static int codec_from(const char *s, enum media_codec_id *id)
{
	static const char *names[] = {"pcmu", "pcma", "g722", "opus"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*id = (enum media_codec_id)i;
			return 0;
		}
	return -1;
}

/* tone_peer --wav FILE HZ SECONDS RATE: write a sine as a 16-bit WAV (music on hold for tests). */
static int write_wav(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	double hz = strtod(argv[3], NULL), secs = strtod(argv[4], NULL);
	uint32_t rate = (uint32_t)strtoul(argv[5], NULL, 10);
	size_t n = (size_t)(secs * rate);
	if (hz <= 0 || !n || rate < 8000 || rate > 48000)
		return 2;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	if (!pcm)
		return 2;
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(8000.0 * sin(2.0 * M_PI * hz * (double)i / rate));
	int err = media_wav_save(argv[2], pcm, n, rate);
	free(pcm);
	return err ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--wav"))
		return write_wav(argc, argv);
	if (argc < 9) {
		fprintf(stderr,
			"usage: tone_peer HOST PORT BIND_PORT CODEC PT SEND_HZ SECONDS OUTFILE "
			"[EXPECT_HZ [ABSENT_HZ [SRTP_TAG_BITS OUR_KEY REMOTE_KEY]]]\n");
		return 2;
	}
	struct sockaddr_in dst = {.sin_family = AF_INET};
	enum media_codec_id id;
	long port = strtol(argv[2], NULL, 10), bind_port = strtol(argv[3], NULL, 10);
	int pt = (int)strtol(argv[5], NULL, 10);
	double send_hz = strtod(argv[6], NULL), secs = strtod(argv[7], NULL);
	const char *keys = strncmp(argv[6], "dtmf:", 5) == 0 ? argv[6] + 5 : NULL;
	struct media_dtmf_gen *gen = NULL;
	if (keys && media_dtmf_gen_new(&gen)) {
		fprintf(stderr, "tone_peer: DTMF generator\n");
		return 2;
	}
	struct meter m = {
	    .hz = {argc > 9 ? strtod(argv[9], NULL) : 0, argc > 10 ? strtod(argv[10], NULL) : 0}};
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || port <= 0 || port > 65535 ||
	    bind_port < 0 || bind_port > 65535 || codec_from(argv[4], &id) || pt < 0 || pt > 127 ||
	    secs <= 0 || secs > 600) {
		fprintf(stderr, "tone_peer: bad arguments\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)port);
	struct rtp_srtp *tx = NULL, *rx = NULL;
	if (argc > 13) {
		uint8_t k1[RTP_SRTP_KEY_LEN], k2[RTP_SRTP_KEY_LEN];
		enum rtp_srtp_suite suite = !strcmp(argv[11], "32")
						? RTP_SRTP_AES_CM_128_HMAC_SHA1_32
						: RTP_SRTP_AES_CM_128_HMAC_SHA1_80;
		if (rtp_srtp_key_parse(argv[12], strlen(argv[12]), k1) ||
		    rtp_srtp_key_parse(argv[13], strlen(argv[13]), k2) ||
		    rtp_srtp_new(&tx, suite, k1, true) || rtp_srtp_new(&rx, suite, k2, false)) {
			fprintf(stderr, "tone_peer: bad SRTP keys\n");
			return 2;
		}
	}
	struct media_codec *enc, *dec;
	struct media_codec_opts co = {.rate = 16000, .complexity = 5, .fec = true};
	if (media_codec_new(&enc, id, &co) || media_codec_new(&dec, id, &co)) {
		fprintf(stderr, "tone_peer: codec\n");
		return 2;
	}
	uint32_t rate = media_codec_rate(enc), ts_step = media_codec_rtp_rate(enc) / 50u;
	size_t frame = rate / 50u;
	for (int k = 0; k < 2; k++)
		m.coeff[k] = 2.0 * cos(2.0 * M_PI * m.hz[k] / (double)rate);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bind_port)};
	src.sin_addr = dst.sin_addr;
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("tone_peer: socket");
		return 2;
	}
	long count = (long)(secs * 50.0), sent = 0, received = 0;
	uint32_t ssrc = (uint32_t)getpid() * 2654435761u;
	int64_t start = now_ms(), next = start, end = start + (int64_t)(secs * 1000.0) + 1500;
	uint64_t phase = 0;
	while (now_ms() < end) {
		if (sent < count && now_ms() >= next) {
			uint8_t pkt[1500];
			int16_t pcm[960];
			if (keys) {
				/* key k sounds for 100 ms from k * 200 ms on; frames are 20 ms */
				size_t slot = (size_t)(phase / (rate / 5u));
				bool on = phase % (rate / 5u) < rate / 10u;
				char key = slot < strlen(keys) && on ? keys[slot] : 0;
				media_dtmf_gen_fill(gen, key, pcm, frame);
				phase += frame;
			} else {
				for (size_t i = 0; i < frame; i++, phase++)
					pcm[i] =
					    (int16_t)(6000.0 * sin(2.0 * M_PI * send_hz *
								   (double)phase / (double)rate));
			}
			uint16_t seq = (uint16_t)sent;
			uint32_t ts = (uint32_t)sent * ts_step;
			rtp_write_header(pkt, sizeof(pkt), (uint8_t)pt, false, seq, ts, ssrc);
			int n = media_codec_encode(enc, pcm, frame, pkt + 12,
						   sizeof(pkt) - 12 - RTP_SRTP_MAX_TRAILER);
			size_t plen = 12u + (size_t)(n > 0 ? n : 0);
			if (n > 0 && tx && rtp_srtp_protect(tx, pkt, &plen, sizeof(pkt)))
				n = -1;
			if (n > 0 &&
			    sendto(fd, pkt, plen, 0, (struct sockaddr *)&dst, sizeof(dst)) > 0)
				sent++;
			next += 20;
			continue;
		}
		int64_t wait = (sent < count ? next : end) - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, wait > 0 ? (int)wait : 0);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		uint8_t in[2048];
		ssize_t len = recv(fd, in, sizeof(in), 0);
		if (len <= 0)
			continue;
		size_t ulen = (size_t)len;
		if (rx && rtp_srtp_unprotect(rx, in, &ulen))
			continue;
		struct rtp_hdr h;
		if (rtp_parse(in, ulen, &h) || h.pt != pt || !h.payload_len)
			continue;
		received++;
		int16_t pcm[5760];
		int got = media_codec_decode(dec, h.payload, h.payload_len, pcm, 5760);
		if (got > 0 && now_ms() - start > 500)
			meter_block(&m, pcm, (size_t)got);
	}
	close(fd);
	int p0 = m.energy > 0 ? (int)(100.0 * m.power[0] / m.energy + 0.5) : 0;
	int p1 = m.energy > 0 ? (int)(100.0 * m.power[1] / m.energy + 0.5) : 0;
	char line[160];
	snprintf(line, sizeof(line), "received %ld of %ld expect %d absent %d", received, sent, p0,
		 p1);
	FILE *f = fopen(argv[8], "w");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	printf("tone_peer %s: %s\n", argv[4], line);
	media_codec_free(enc);
	media_codec_free(dec);
	rtp_srtp_free(tx);
	rtp_srtp_free(rx);
	if (gen)
		media_dtmf_gen_free(gen);
	bool ok =
	    received >= sent * 8 / 10 && (m.hz[0] <= 0 || p0 >= 40) && (m.hz[1] <= 0 || p1 <= 5);
	return ok ? 0 : 1;
}
