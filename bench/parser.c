/* Parser benchmark: one realistic 1.2 kB INVITE with SDP parsed by switchboard's sip_msg_parse,
 * by osip2 (osip_message_parse + free) and by sofia-sip (msg_make with sip_default_mclass),
 * measured side by side in one run; prints ns/message and the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/msg.h"

double sb_bench_now_ns(void);
extern volatile size_t sb_bench_sink;

static const char invite[] =
    "INVITE sip:+14155550123@gw.switchboard.example.com;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---0d1c3e5f7a9b;rport\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK2f8e4d1a;received=198.51.100.7\r\n"
    "Record-Route: <sip:203.0.113.10;lr;ftag=as6f3c2b1a>\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"Alice Caller\" <sip:+14155550100@trunk.example.net;user=phone>;tag=as6f3c2b1a\r\n"
    "To: <sip:+14155550123@gw.switchboard.example.com;user=phone>\r\n"
    "Contact: <sip:+14155550100@203.0.113.10:5060;transport=udp>\r\n"
    "Call-ID: 3c26700f8e1a4d7b9a1e2b3c4d5e6f70@203.0.113.10\r\n"
    "CSeq: 102 INVITE\r\n"
    "P-Asserted-Identity: \"Alice Caller\" <sip:+14155550100@trunk.example.net;user=phone>\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "User-Agent: Example-SBC/4.2.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length:   302\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 1762338443 1762338443 IN IP4 203.0.113.10\r\n"
    "s=Example-SBC\r\n"
    "c=IN IP4 203.0.113.10\r\n"
    "t=0 0\r\n"
    "m=audio 18742 RTP/AVP 0 8 9 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:150\r\n"
    "a=sendrecv\r\n"
    "a=rtcp:18743\r\n";

double sb_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

volatile size_t sb_bench_sink;

static double bench_ours(const char *msg, size_t len, long iters)
{
	static struct sip_msg m;
	double best = 1e18;
	for (int round = 0; round < 5; round++) {
		double t0 = sb_bench_now_ns();
		for (long i = 0; i < iters; i++) {
			int n = sip_msg_parse(&m, msg, len, SIP_PARSE_DATAGRAM);
			if (n <= 0) {
				fprintf(stderr, "our parser rejected the message: %s\n",
					m.error_reason);
				exit(1);
			}
			sb_bench_sink += (size_t)n + m.cseq.num;
		}
		double dt = (sb_bench_now_ns() - t0) / (double)iters;
		if (dt < best)
			best = dt;
	}
	return best;
}

#ifdef SB_BENCH_OTHERS
/* parser_others.c: kept apart because sofia-sip's headers clash with ours (sip_method_name) */
double sb_bench_osip(const char *msg, size_t len, long iters);
double sb_bench_sofia(const char *msg, size_t len, long iters);
void sb_bench_others_init(void);
#endif

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	if (iters <= 0)
		iters = 200000;
	size_t len = sizeof(invite) - 1;
	printf("message: INVITE with SDP, %zu bytes; %ld iterations, best of 5 rounds\n", len,
	       iters);
	double ours = bench_ours(invite, len, iters);
	printf("switchboard sip_msg_parse          %8.1f ns/msg\n", ours);
#ifdef SB_BENCH_OTHERS
	sb_bench_others_init();
	double osip = sb_bench_osip(invite, len, iters / 10 + 1);
	double sofia = sb_bench_sofia(invite, len, iters / 4 + 1);
	printf("osip2 osip_message_parse + free    %8.1f ns/msg  (%.1fx ours)\n", osip,
	       osip / ours);
	printf("sofia-sip msg_make + destroy       %8.1f ns/msg  (%.1fx ours)\n", sofia,
	       sofia / ours);
	printf("ratio sofia/ours %.1f (target >= 9), ours %s 300 ns target\n", sofia / ours,
	       ours <= 300 ? "meets" : "MISSES");
#else
	printf("(osip2 / sofia-sip not built in)\n");
#endif
	return 0;
}
