/* rtp_probe: the media peer of a SIPp call. Sends a 1 kHz tone as G.711 RTP (20 ms frames)
 * from its own port to HOST:PORT, decodes what comes back and measures how much of it is that
 * tone (Goertzel), to prove that the far end really returns the caller's audio.
 *
 *   rtp_probe HOST PORT COUNT OUTFILE [MIN [BIND_PORT [PT]]]
 *
 * PT 0 (PCMU, default) or 8 (PCMA); BIND_PORT 0 = any. Writes "sent N received M tone P" to
 * OUTFILE (and stdout), P = percent of the received audio's energy at 1 kHz; exits 0 when
 * M >= MIN (default 80 % of COUNT) and P >= 50, 1 otherwise, 2 on a usage or socket error.
 * Bounded: COUNT * 20 ms + 1.5 s. */
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
#include "rtp/packet.h"

#define TONE_HZ 1000.0

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Goertzel power of one frequency over a block, and the block's energy. */
static void measure(const int16_t *x, size_t n, double *tone, double *energy)
{
	double w = 2.0 * M_PI * TONE_HZ / 8000.0, coeff = 2.0 * cos(w), s1 = 0, s2 = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s0;
		e += (double)x[i] * x[i];
	}
	/* |X(f)|^2 * 2 / n is the power of a sine of that frequency; e / 1 its sum over n */
	*tone += (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / (double)n;
	*energy += e;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr,
			"usage: rtp_probe HOST PORT COUNT OUTFILE [MIN [BIND_PORT [PT]]]\n");
		return 2;
	}
	struct sockaddr_in dst = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "rtp_probe: bad address %s\n", argv[1]);
		return 2;
	}
	long port = strtol(argv[2], NULL, 10);
	long count = strtol(argv[3], NULL, 10);
	if (port <= 0 || port > 65535 || count <= 0 || count > 100000) {
		fprintf(stderr, "rtp_probe: bad port or count\n");
		return 2;
	}
	long min = argc > 5 ? strtol(argv[5], NULL, 10) : count * 8 / 10;
	long bind_port = argc > 6 ? strtol(argv[6], NULL, 10) : 0;
	int pt = argc > 7 ? (int)strtol(argv[7], NULL, 10) : 0;
	if (pt != 0 && pt != 8) {
		fprintf(stderr, "rtp_probe: PT must be 0 or 8\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)port);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bind_port)};
	src.sin_addr = dst.sin_addr;
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("rtp_probe: socket");
		return 2;
	}

	uint8_t pkt[12 + 160];
	uint32_t ssrc = (uint32_t)getpid() * 2654435761u;
	long sent = 0, received = 0;
	double tone = 0, energy = 0;
	int64_t next = now_ms(), end = next + count * 20 + 1500;
	while (now_ms() < end) {
		int64_t t = now_ms();
		if (sent < count && t >= next) {
			uint16_t seq = (uint16_t)sent;
			uint32_t ts = (uint32_t)sent * 160;
			rtp_write_header(pkt, sizeof(pkt), (uint8_t)pt, false, seq, ts, ssrc);
			for (int i = 0; i < 160; i++) {
				double v = 8000.0 *
					   sin(2.0 * M_PI * TONE_HZ * (ts + (uint32_t)i) / 8000.0);
				pkt[12 + i] = pt ? media_alaw_encode((int16_t)v)
						 : media_ulaw_encode((int16_t)v);
			}
			if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) ==
			    (ssize_t)sizeof(pkt))
				sent++;
			next += 20;
			continue;
		}
		int64_t wait = (sent < count ? next : end) - now_ms();
		if (wait < 0)
			wait = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, (int)wait);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			uint8_t in[2048];
			ssize_t len = recv(fd, in, sizeof(in), 0);
			struct rtp_hdr h;
			if (len <= 0 || rtp_parse(in, (size_t)len, &h) || (h.pt != 0 && h.pt != 8))
				continue;
			received++;
			int16_t pcm[2048];
			size_t m = h.payload_len;
			for (size_t i = 0; i < m; i++)
				pcm[i] = h.pt ? media_alaw_decode(h.payload[i])
					      : media_ulaw_decode(h.payload[i]);
			measure(pcm, m, &tone, &energy);
		}
		if (sent >= count && received >= count)
			break;
	}
	close(fd);
	int pct = energy > 0 ? (int)(100.0 * tone / energy + 0.5) : 0;
	FILE *f = fopen(argv[4], "w");
	if (f) {
		fprintf(f, "sent %ld received %ld tone %d\n", sent, received, pct);
		fclose(f);
	}
	printf("rtp_probe: sent %ld received %ld tone %d%% to/from %s:%ld\n", sent, received, pct,
	       argv[1], port);
	return received >= min && pct >= 50 ? 0 : 1;
}
