/* osip2 and sofia-sip halves of the parser benchmark (bench/parser.c), in their own file because
 * sofia-sip's headers declare names that clash with ours (sip_method_name). */
#include <stdio.h>
#include <stdlib.h>

#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

double sb_bench_now_ns(void);
extern volatile size_t sb_bench_sink;
void sb_bench_others_init(void);
double sb_bench_osip(const char *msg, size_t len, long iters);
double sb_bench_sofia(const char *msg, size_t len, long iters);

void sb_bench_others_init(void)
{
	parser_init();
}

double sb_bench_osip(const char *msg, size_t len, long iters)
{
	double best = 1e18;
	for (int round = 0; round < 5; round++) {
		double t0 = sb_bench_now_ns();
		for (long i = 0; i < iters; i++) {
			osip_message_t *sip;
			osip_message_init(&sip);
			if (osip_message_parse(sip, msg, len) != 0) {
				fprintf(stderr, "osip rejected the message\n");
				exit(1);
			}
			sb_bench_sink += (size_t)sip->status_code;
			osip_message_free(sip);
		}
		double dt = (sb_bench_now_ns() - t0) / (double)iters;
		if (dt < best)
			best = dt;
	}
	return best;
}

double sb_bench_sofia(const char *msg, size_t len, long iters)
{
	double best = 1e18;
	for (int round = 0; round < 5; round++) {
		double t0 = sb_bench_now_ns();
		for (long i = 0; i < iters; i++) {
			msg_t *sm = msg_make(sip_default_mclass(), 0, msg, (isize_t)len);
			if (!sm) {
				fprintf(stderr, "sofia-sip rejected the message\n");
				exit(1);
			}
			sip_t *sip = sip_object(sm);
			if (!sip || !sip->sip_cseq) {
				fprintf(stderr, "sofia-sip did not parse CSeq\n");
				exit(1);
			}
			sb_bench_sink += sip->sip_cseq->cs_seq;
			msg_destroy(sm);
		}
		double dt = (sb_bench_now_ns() - t0) / (double)iters;
		if (dt < best)
			best = dt;
	}
	return best;
}
