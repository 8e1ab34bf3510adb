/* Unit tests for src/api/metrics.c: label and HELP escaping, sample and header lines, number
 * formats, and a rendered snapshot that is well-formed and shows the counters it was given. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics.h"

static char *text(struct sb_buf *b)
{
	sb_buf_append_char(b, '\0');
	assert_int_equal(b->err, 0);
	return b->p;
}

static void test_escape(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	api_metrics_escape(&b, "a\\b\"c\nd\te");
	assert_string_equal(text(&b), "a\\\\b\\\"c\\nd\te");
	sb_buf_reset(&b);
	api_metrics_escape(&b, NULL);
	assert_string_equal(text(&b), "");
	sb_buf_free(&b);
}

static void test_lines(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	api_metrics_header(&b, "x_total", API_METRIC_COUNTER, "Things \"done\"\nback\\slash.");
	api_metrics_header(&b, "y", API_METRIC_GAUGE, "Y.");
	struct api_metric_label l[] = {{"a", "1"}, {"b", "q\"x"}};
	api_metrics_sample_u64(&b, "x_total", l, 2, 18446744073709551615ull);
	api_metrics_sample_u64(&b, "x_total", NULL, 0, 0);
	api_metrics_sample(&b, "y", l, 1, 0.25);
	api_metrics_sample(&b, "y", NULL, 0, 3.0);
	api_metrics_sample(&b, "y", NULL, 0, -2.5e-7);
	api_metrics_sample(&b, "y", NULL, 0, 0.1);
	api_metrics_sample(&b, "y", NULL, 0, NAN);
	api_metrics_sample(&b, "y", NULL, 0, INFINITY);
	api_metrics_sample(&b, "y", NULL, 0, -INFINITY);
	assert_string_equal(text(&b), "# HELP x_total Things \"done\"\\nback\\\\slash.\n"
				      "# TYPE x_total counter\n"
				      "# HELP y Y.\n"
				      "# TYPE y gauge\n"
				      "x_total{a=\"1\",b=\"q\\\"x\"} 18446744073709551615\n"
				      "x_total 0\n"
				      "y{a=\"1\"} 0.25\n"
				      "y 3\n"
				      "y -2.5e-07\n"
				      "y 0.1\n"
				      "y NaN\n"
				      "y +Inf\n"
				      "y -Inf\n");
	sb_buf_free(&b);
}

/* ---- a rendered scrape ---- */

#define MAX_NAMES 128

struct parsed {
	char typed[MAX_NAMES][96];
	size_t n_typed;
	size_t samples;
};

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* Every line is a HELP, a TYPE or a sample of a metric typed before it, whose labels and value
 * parse; fails the test otherwise. */
static void check_format(const char *t, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	while (*t) {
		const char *nl = strchr(t, '\n');
		assert_non_null(nl); /* every line ends with \n, the last one too */
		char line[1024];
		size_t len = (size_t)(nl - t);
		assert_true(len < sizeof(line));
		memcpy(line, t, len);
		line[len] = '\0';
		t = nl + 1;
		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			char name[96], type[16];
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, type), 2);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
			for (size_t i = 0; i < p->n_typed; i++)
				assert_string_not_equal(p->typed[i],
							name); /* one TYPE per metric */
			assert_true(p->n_typed < MAX_NAMES);
			strcpy(p->typed[p->n_typed++], name);
			continue;
		}
		assert_true(line[0] != '#');
		const char *c = line;
		assert_true(name_char(*c, true));
		while (name_char(*c, false))
			c++;
		size_t nlen = (size_t)(c - line);
		bool typed = false;
		for (size_t i = 0; i < p->n_typed; i++)
			if (strlen(p->typed[i]) == nlen && !memcmp(p->typed[i], line, nlen))
				typed = true;
		assert_true(typed);
		assert_int_equal(strncmp(line, "switchboard_", 12), 0);
		if (*c == '{') {
			c++;
			while (*c != '}') {
				assert_true(name_char(*c, true));
				while (name_char(*c, false))
					c++;
				assert_int_equal(*c++, '=');
				assert_int_equal(*c++, '"');
				while (*c != '"') {
					assert_true(*c != '\0');
					if (*c == '\\') {
						c++;
						assert_true(*c == '\\' || *c == '"' || *c == 'n');
					}
					c++;
				}
				c++;
				if (*c == ',')
					c++;
				else
					assert_int_equal(*c, '}');
			}
			c++;
		}
		assert_int_equal(*c++, ' ');
		char *end;
		if (strcmp(c, "NaN") && strcmp(c, "+Inf") && strcmp(c, "-Inf")) {
			strtod(c, &end);
			assert_true(end != c && *end == '\0');
		}
		p->samples++;
	}
}

static void test_render(void **state)
{
	(void)state;
	struct api_metrics_snapshot *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->version = "1.2.3-\"dev\"";
	s->uptime_s = 12.5;
	s->calls.calls[0][CALL_METRIC_ACTIVE] = 2;
	s->calls.calls[1][CALL_METRIC_RINGING] = 1;
	s->calls.started[0] = 7;
	s->calls.started[1] = 3;
	s->calls.ended[0][1] = 5;
	s->calls.cps = 0.3;
	s->calls.rtp_rx_packets = 1000;
	s->calls.rtp_tx_packets = 990;
	s->calls.rtp_lost = 4;
	s->calls.legs = 2;
	s->calls.jitter_mean_ms = 2.5;
	s->calls.jitter_max_ms = 4;
	s->rooms.rooms = 1;
	s->rooms.participants[ROOM_PART_SIP] = 2;
	s->rooms.participants[ROOM_PART_INTERNAL] = 1;
	s->sip.msgs.requests[SIP_COUNT_RX][SIP_METHOD_INVITE] = 9;
	s->sip.msgs.requests[SIP_COUNT_RX][SIP_METHOD_OTHER] = 1;
	s->sip.msgs.responses[SIP_COUNT_TX][200 - SIP_COUNT_STATUS_MIN] = 8;
	s->sip.msgs.responses[SIP_COUNT_RX][486 - SIP_COUNT_STATUS_MIN] = 1;
	s->sip.calls = 3;
	s->webhooks.sent = 11;
	s->webhooks.given_up = 2;
	s->webhooks.attempts_failed = 10;

	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	api_metrics_render(&b, s);
	const char *t = text(&b);
	struct parsed p;
	check_format(t, &p);
	assert_true(p.samples > 30);

	static const char *const want[] = {
	    "# TYPE switchboard_calls gauge\n",
	    "\nswitchboard_calls{state=\"active\",direction=\"inbound\"} 2\n",
	    "\nswitchboard_calls{state=\"ringing\",direction=\"outbound\"} 1\n",
	    "\nswitchboard_calls{state=\"ending\",direction=\"inbound\"} 0\n",
	    "\nswitchboard_calls{state=\"held\",direction=\"outbound\"} 0\n",
	    "# TYPE switchboard_calls_total counter\n",
	    "\nswitchboard_calls_total{direction=\"inbound\"} 7\n",
	    "\nswitchboard_calls_total{direction=\"outbound\"} 3\n",
	    "\nswitchboard_calls_ended_total{direction=\"inbound\",answered=\"true\"} 5\n",
	    "\nswitchboard_calls_per_second 0.3\n",
	    "\nswitchboard_rtp_packets_received_total 1000\n",
	    "\nswitchboard_rtp_packets_sent_total 990\n",
	    "\nswitchboard_rtp_packets_lost_total 4\n",
	    "\nswitchboard_rtp_jitter_seconds{aggregate=\"mean\"} 0.0025\n",
	    "\nswitchboard_rtp_jitter_seconds{aggregate=\"max\"} 0.004\n",
	    "\nswitchboard_rooms 1\n",
	    "\nswitchboard_participants{kind=\"sip\"} 2\n",
	    "\nswitchboard_participants{kind=\"internal\"} 1\n",
	    "\nswitchboard_participants{kind=\"agent\"} 0\n",
	    "\nswitchboard_sip_requests_total{method=\"INVITE\",direction=\"received\"} 9\n",
	    "\nswitchboard_sip_requests_total{method=\"other\",direction=\"received\"} 1\n",
	    "\nswitchboard_sip_requests_total{method=\"BYE\",direction=\"sent\"} 0\n",
	    "\nswitchboard_sip_responses_total{code=\"200\",direction=\"sent\"} 8\n",
	    "\nswitchboard_sip_responses_total{code=\"486\",direction=\"received\"} 1\n",
	    "\nswitchboard_sip_dialogs 3\n",
	    "\nswitchboard_webhooks_delivered_total 11\n",
	    "\nswitchboard_webhooks_failed_total 2\n",
	    "\nswitchboard_webhook_attempts_failed_total 10\n",
	    "\nswitchboard_uptime_seconds 12.5\n",
	    "\nswitchboard_build_info{version=\"1.2.3-\\\"dev\\\"\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i]))
			fail_msg("missing %s in:\n%s", want[i], t);
	/* responses never seen are left out; unusual methods too */
	assert_null(strstr(t, "code=\"404\""));
	assert_null(strstr(t, "method=\"PUBLISH\""));
	sb_buf_free(&b);
	free(s);
}

/* An empty snapshot (no modules) still renders every metric, with zeros. */
static void test_render_empty(void **state)
{
	(void)state;
	struct api_metrics_snapshot *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	api_metrics_render(&b, s);
	const char *t = text(&b);
	struct parsed p;
	check_format(t, &p);
	assert_non_null(strstr(t, "\nswitchboard_rooms 0\n"));
	assert_non_null(strstr(t, "\nswitchboard_build_info{version=\"\"} 1\n"));
	assert_non_null(strstr(t, "\nswitchboard_calls_per_second 0\n"));
	sb_buf_free(&b);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_render_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
