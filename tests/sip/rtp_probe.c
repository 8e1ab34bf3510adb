/* rtp_probe: sends RTP (PCMU, 20 ms frames) to HOST:PORT and counts the packets that come
 * back, to prove that the far end echoes media.
 *
 *   rtp_probe HOST PORT COUNT OUTFILE [MIN]
 *
 * Writes "sent N received M" to OUTFILE (and stdout); exits 0 when M >= MIN (default: 80 %
 * of COUNT), 1 otherwise, 2 on a usage or socket error. Bounded: COUNT * 20 ms + 1.5 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: rtp_probe HOST PORT COUNT OUTFILE [MIN]\n");
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
	dst.sin_port = htons((uint16_t)port);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr = dst.sin_addr;
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("rtp_probe: socket");
		return 2;
	}

	uint8_t pkt[12 + 160];
	uint32_t ssrc = (uint32_t)getpid() * 2654435761u;
	long sent = 0, received = 0;
	int64_t next = now_ms(), end = next + count * 20 + 1500;
	while (now_ms() < end) {
		int64_t t = now_ms();
		if (sent < count && t >= next) {
			uint16_t seq = (uint16_t)sent;
			uint32_t ts = (uint32_t)sent * 160;
			pkt[0] = 0x80;
			pkt[1] = 0; /* PCMU */
			pkt[2] = (uint8_t)(seq >> 8);
			pkt[3] = (uint8_t)seq;
			pkt[4] = (uint8_t)(ts >> 24);
			pkt[5] = (uint8_t)(ts >> 16);
			pkt[6] = (uint8_t)(ts >> 8);
			pkt[7] = (uint8_t)ts;
			pkt[8] = (uint8_t)(ssrc >> 24);
			pkt[9] = (uint8_t)(ssrc >> 16);
			pkt[10] = (uint8_t)(ssrc >> 8);
			pkt[11] = (uint8_t)ssrc;
			memset(pkt + 12, 0xff, 160); /* PCMU silence */
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
			if (len >= 12 && (in[0] & 0xc0) == 0x80)
				received++;
		}
		if (sent >= count && received >= count)
			break;
	}
	close(fd);
	FILE *f = fopen(argv[4], "w");
	if (f) {
		fprintf(f, "sent %ld received %ld\n", sent, received);
		fclose(f);
	}
	printf("rtp_probe: sent %ld received %ld to/from %s:%ld\n", sent, received, argv[1], port);
	return received >= min ? 0 : 1;
}
