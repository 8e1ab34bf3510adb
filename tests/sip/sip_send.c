/* Test helper: sends each raw SIP message of a directory to a server over UDP and checks the
 * response code against the file name ("400-why.sip", "none-why.sip" = no answer expected).
 * Lines are sent with CRLF; [local_port], [case] and [len] (body length) are filled in. */
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replace every occurrence of key by val in buf (cap bytes); returns the new length. */
static size_t subst(char *buf, size_t len, size_t cap, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val);
	for (size_t i = 0; i + kl <= len;) {
		if (memcmp(buf + i, key, kl) == 0 && len - kl + vl < cap) {
			memmove(buf + i + vl, buf + i + kl, len - i - kl);
			memcpy(buf + i, val, vl);
			len = len - kl + vl;
			i += vl;
		} else {
			i++;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: sip_send HOST PORT DIR [TIMEOUT_MS]\n");
		return 2;
	}
	int timeout = argc > 4 ? atoi(argv[4]) : 1000;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &to.sin_addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	socklen_t ml = sizeof(me);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    getsockname(fd, (struct sockaddr *)&me, &ml)) {
		perror("socket");
		return 2;
	}
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(me.sin_port));

	DIR *d = opendir(argv[3]);
	if (!d) {
		perror(argv[3]);
		return 2;
	}
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (strstr(e->d_name, ".sip"))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);

	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[3], names[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			return 2;
		static char raw[16384], msg[32768];
		size_t rl = fread(raw, 1, sizeof(raw), f);
		fclose(f);
		size_t ml2 = 0;
		for (size_t k = 0; k < rl && ml2 < sizeof(msg) - 2; k++) {
			if (raw[k] == '\n' && (k == 0 || raw[k - 1] != '\r'))
				msg[ml2++] = '\r';
			msg[ml2++] = raw[k];
		}
		char casebuf[24];
		snprintf(casebuf, sizeof(casebuf), "%zu", i);
		ml2 = subst(msg, ml2, sizeof(msg), "[local_port]", port);
		ml2 = subst(msg, ml2, sizeof(msg), "[case]", casebuf);
		char *body = memmem(msg, ml2, "\r\n\r\n", 4);
		char lenbuf[24];
		snprintf(lenbuf, sizeof(lenbuf), "%zu", body ? ml2 - (size_t)(body + 4 - msg) : 0);
		ml2 = subst(msg, ml2, sizeof(msg), "[len]", lenbuf);

		int want = atoi(names[i]); /* 0 for "none-..." */
		sendto(fd, msg, ml2, 0, (struct sockaddr *)&to, sizeof(to));
		char resp[65536];
		int got = 0;
		char line[256] = "";
		struct pollfd p = {.fd = fd, .events = POLLIN};
		/* Skip provisional answers; the first final one counts. */
		while (poll(&p, 1, want ? timeout : timeout / 2) > 0) {
			ssize_t r = recv(fd, resp, sizeof(resp) - 1, 0);
			if (r <= 12)
				continue;
			resp[r] = '\0';
			/* Retransmitted answers to earlier cases (an INVITE's final waits for an
			 * ACK that never comes) are not this case's answer. */
			char mine[48];
			snprintf(mine, sizeof(mine), "malformed-%zu@", i);
			if (strstr(resp, "malformed-") && !strstr(resp, mine))
				continue;
			int code = atoi(resp + 8);
			if (code >= 200) {
				got = code;
				char *eol = strstr(resp, "\r\n");
				size_t ll = eol ? (size_t)(eol - resp) : strlen(resp);
				snprintf(line, sizeof(line), "%.*s", (int)ll, resp);
				break;
			}
		}
		/* Every rejection must carry a reason phrase ("SIP/2.0 400 X"). */
		bool ok = got == want && (!got || strlen(line) > 12);
		printf("%s %-40s want %-4d got %-4d %s\n", ok ? "ok  " : "FAIL", names[i], want,
		       got, line);
		if (!ok)
			failures++;
		free(names[i]);
	}
	close(fd);
	return failures ? 1 : 0;
}
