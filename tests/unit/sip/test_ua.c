/* Dialog-level tests of src/sip/ua.c and call.c: two user agents in one process talk over
 * loopback UDP and exercise answer, reject, CANCEL, BYE, hold both ways, glare, INFO and REFER. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "sip/ua.h"

struct side {
	const char *name;
	struct sip_ua *ua;
	struct sip_call *call;
	int incoming, progress, established, media, ended, end_status;
	int held, resumed;
	char dtmf[16];
	size_t ndtmf;
	int refers;
	/* what the callee does with an incoming call */
	int answer_mode; /* 0 answer, 1 ring only, 2 reject 486 */
	int refer_mode;	 /* 0 notify 200, 1 notify 486, 2 hang up instead */
	int op_status, op_count;
	int refer_status;
	char refer_to[128];
};

struct world {
	uv_loop_t loop;
	struct side a, b; /* a calls b */
	uv_timer_t guard;
	int closed;
};

static struct world W;

static struct sip_media_local media_of(uint16_t port)
{
	struct sip_media_local m;
	memset(&m, 0, sizeof(m));
	snprintf(m.addr, sizeof(m.addr), "127.0.0.1");
	m.port = port;
	m.telephone_event = true;
	return m;
}

static void on_progress(struct sip_call *c, int status, void *arg)
{
	(void)c;
	(void)status;
	((struct side *)arg)->progress++;
}

static void on_established(struct sip_call *c, void *arg)
{
	(void)c;
	((struct side *)arg)->established++;
}

static void on_media(struct sip_call *c, const struct sip_media_state *m, void *arg)
{
	(void)c;
	(void)m;
	((struct side *)arg)->media++;
}

static void on_hold(struct sip_call *c, bool held, enum sdp_dir dir, void *arg)
{
	(void)c;
	(void)dir;
	struct side *s = arg;
	if (held)
		s->held++;
	else
		s->resumed++;
}

static void on_dtmf(struct sip_call *c, char digit, uint32_t ms, void *arg)
{
	(void)c;
	(void)ms;
	struct side *s = arg;
	if (s->ndtmf < sizeof(s->dtmf) - 1)
		s->dtmf[s->ndtmf++] = digit;
}

static void on_refer(struct sip_call *c, const struct sip_refer_request *r, void *arg)
{
	struct side *s = arg;
	s->refers++;
	snprintf(s->refer_to, sizeof(s->refer_to), "%.*s", SB_SLICE_ARG(r->refer_to));
	assert_int_equal(sip_call_refer_accept(c), 0);
	if (s->refer_mode == 2)
		assert_int_equal(sip_call_hangup(c, NULL, NULL),
				 0); /* the call ends before any outcome */
	else if (s->refer_mode == 0)
		assert_int_equal(sip_call_refer_notify(c, 200, "OK"), 0);
	else
		assert_int_equal(sip_call_refer_notify(c, 486, "Busy Here"), 0);
}

static void on_ended(struct sip_call *c, int status, const char *reason, void *arg)
{
	(void)c;
	(void)reason;
	struct side *s = arg;
	s->ended++;
	s->end_status = status;
	s->call = NULL;
}

static const struct sip_call_handlers call_handlers = {
    .progress = on_progress,
    .established = on_established,
    .media = on_media,
    .hold = on_hold,
    .dtmf = on_dtmf,
    .refer = on_refer,
    .ended = on_ended,
};

static void on_incoming(struct sip_ua *ua, struct sip_call *c, const struct sip_incoming *in,
			void *arg)
{
	(void)ua;
	(void)in;
	struct side *s = arg;
	s->incoming++;
	s->call = c;
	sip_call_set_handlers(c, &call_handlers, s);
	if (s->answer_mode == 2) {
		assert_int_equal(sip_call_reject(c, 486, NULL), 0);
		return;
	}
	assert_int_equal(sip_call_ringing(c, NULL), 0);
	if (s->answer_mode == 0) {
		struct sip_media_local m = media_of(40002);
		assert_int_equal(sip_call_answer(c, &m), 0);
	}
}

static const struct sip_ua_handlers ua_handlers = {.incoming = on_incoming};

static void run_until(int (*cond)(void), unsigned ms)
{
	uint64_t end = uv_now(&W.loop) + ms;
	while (!cond() && uv_now(&W.loop) < end)
		uv_run(&W.loop, UV_RUN_ONCE);
}

static void guard_tick(uv_timer_t *t)
{
	(void)t; /* keeps UV_RUN_ONCE from blocking forever */
}

static void ua_closed(void *arg)
{
	(void)arg;
	W.closed++;
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	sb_log_set_level(SB_LOG_WARN);
	uv_loop_init(&W.loop);
	uv_timer_init(&W.loop, &W.guard);
	uv_timer_start(&W.guard, guard_tick, 10, 10);
	W.a.name = "a";
	W.b.name = "b";
	struct sip_ua_opts o = {.loop = &W.loop, .t1_ms = 50, .t2_ms = 400, .t4_ms = 500};
	o.arg = &W.a;
	if (sip_ua_new(&W.a.ua, &o) || sip_ua_listen(W.a.ua, SIP_TP_UDP, "127.0.0.1", 0))
		return -1;
	o.handlers = &ua_handlers;
	o.arg = &W.b;
	if (sip_ua_new(&W.b.ua, &o) || sip_ua_listen(W.b.ua, SIP_TP_UDP, "127.0.0.1", 0))
		return -1;
	return 0;
}

static int all_closed(void)
{
	return W.closed == 2;
}

static int teardown(void **state)
{
	(void)state;
	sip_ua_shutdown(W.a.ua, ua_closed, NULL);
	sip_ua_shutdown(W.b.ua, ua_closed, NULL);
	run_until(all_closed, 10000);
	assert_int_equal(W.closed, 2);
	uv_close((uv_handle_t *)&W.guard, NULL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	return 0;
}

static void dial_b(void)
{
	char target[64];
	snprintf(target, sizeof(target), "sip:bob@127.0.0.1:%u", sip_ua_port(W.b.ua, SIP_TP_UDP));
	struct sip_dial_opts o = {.target = target, .from_user = "alice", .transport = SIP_TP_UDP};
	o.media = media_of(40000);
	assert_int_equal(sip_dial(W.a.ua, &o, &call_handlers, &W.a, &W.a.call), 0);
}

static int both_established(void)
{
	return W.a.established && W.b.established;
}

static int both_ended(void)
{
	return W.a.ended && W.b.ended;
}

static void connect_call(void)
{
	dial_b();
	run_until(both_established, 3000);
	assert_int_equal(W.a.established, 1);
	assert_int_equal(W.b.established, 1);
	assert_true(W.a.media >= 1 && W.b.media >= 1);
	assert_int_equal(W.a.progress, 1); /* 180 */
}

static void test_answer_and_bye(void **state)
{
	(void)state;
	connect_call();
	assert_int_equal(sip_ua_call_count(W.a.ua), 1);
	assert_int_equal(sip_call_hangup(W.a.call, NULL, NULL), 0);
	run_until(both_ended, 3000);
	assert_int_equal(W.a.end_status, 200);
	assert_int_equal(W.b.end_status, 200);
	assert_int_equal(sip_ua_call_count(W.a.ua), 0);
	assert_int_equal(sip_ua_call_count(W.b.ua), 0);
}

static void test_bye_from_callee(void **state)
{
	(void)state;
	connect_call();
	assert_int_equal(sip_call_hangup(W.b.call, NULL, NULL), 0);
	run_until(both_ended, 3000);
	assert_int_equal(W.a.end_status, 200);
}

static void test_reject_busy(void **state)
{
	(void)state;
	W.b.answer_mode = 2;
	dial_b();
	run_until(both_ended, 3000);
	assert_int_equal(W.a.end_status, 486);
	assert_int_equal(W.b.end_status, 486);
	assert_int_equal(W.a.established, 0);
}

static int a_progressed(void)
{
	return W.a.progress > 0;
}

static void test_cancel_while_ringing(void **state)
{
	(void)state;
	W.b.answer_mode = 1;
	dial_b();
	run_until(a_progressed, 3000);
	assert_int_equal(W.b.incoming, 1);
	assert_int_equal(sip_call_hangup(W.a.call, NULL, NULL), 0);
	run_until(both_ended, 3000);
	assert_int_equal(W.a.end_status, 487);
	assert_int_equal(W.b.end_status, 487);
}

static int op_done(void)
{
	return W.a.op_count > 0;
}

static void op_cb(void *arg, int status)
{
	struct side *s = arg;
	s->op_status = status;
	s->op_count++;
}

static void test_hold_resume_both_ways(void **state)
{
	(void)state;
	connect_call();
	/* a holds b */
	assert_int_equal(sip_call_hold(W.a.call, op_cb, &W.a), 0);
	run_until(op_done, 3000);
	assert_int_equal(W.a.op_status, 200);
	assert_int_equal(W.b.held, 1);
	assert_true(sip_call_on_hold(W.a.call));
	assert_true(sip_call_remote_hold(W.b.call));
	W.a.op_count = 0;
	assert_int_equal(sip_call_resume(W.a.call, op_cb, &W.a), 0);
	run_until(op_done, 3000);
	assert_int_equal(W.b.resumed, 1);
	assert_false(sip_call_remote_hold(W.b.call));
	/* b holds a (re-INVITE the other way) */
	W.a.op_count = 0;
	assert_int_equal(sip_call_hold(W.b.call, op_cb, &W.a), 0);
	run_until(op_done, 3000);
	assert_int_equal(W.a.held, 1);
}

static int two_ops(void)
{
	return W.a.op_count >= 2;
}

static void test_glare(void **state)
{
	(void)state;
	connect_call();
	/* Both re-INVITE at once: one side answers 491 and retries after the RFC back-off. */
	assert_int_equal(sip_call_hold(W.a.call, op_cb, &W.a), 0);
	assert_int_equal(sip_call_hold(W.b.call, op_cb, &W.a), 0);
	run_until(two_ops, 8000);
	assert_int_equal(W.a.op_count, 2);
	assert_int_equal(W.a.op_status, 200);
	assert_int_equal(W.a.held, 1);
	assert_int_equal(W.b.held, 1);
}

static int three_digits(void)
{
	return W.b.ndtmf >= 3;
}

static void dtmf_next(void *arg, int status)
{
	(void)status;
	const char *digits = arg;
	if (W.a.call && digits[0])
		sip_call_send_info_dtmf(W.a.call, digits[0], 100, dtmf_next, (void *)(digits + 1));
}

static void test_info_dtmf(void **state)
{
	(void)state;
	connect_call();
	static const char rest[] = "#*";
	assert_int_equal(sip_call_send_info_dtmf(W.a.call, '5', 100, dtmf_next, (void *)rest), 0);
	run_until(three_digits, 3000);
	assert_string_equal(W.b.dtmf, "5#*");
}

static void refer_cb(void *arg, int status, const char *reason)
{
	(void)reason;
	struct side *s = arg;
	s->refer_status = status;
}

static int refer_done(void)
{
	return W.a.refer_status != 0;
}

static void test_refer_notify_200(void **state)
{
	(void)state;
	connect_call();
	assert_int_equal(sip_call_refer(W.a.call, "sip:carol@127.0.0.1", "sip:alice@127.0.0.1",
					5000, refer_cb, &W.a),
			 0);
	run_until(refer_done, 3000);
	assert_int_equal(W.b.refers, 1);
	assert_true(strstr(W.b.refer_to, "sip:carol@127.0.0.1") != NULL);
	assert_int_equal(W.a.refer_status, 200);
}

static void test_refer_notify_486(void **state)
{
	(void)state;
	W.b.refer_mode = 1;
	connect_call();
	assert_int_equal(
	    sip_call_refer(W.a.call, "sip:carol@127.0.0.1", NULL, 5000, refer_cb, &W.a), 0);
	run_until(refer_done, 3000);
	assert_int_equal(W.a.refer_status, 486);
}

static void test_refer_call_ends_first(void **state)
{
	(void)state;
	/* b accepts the REFER, then hangs up before any final NOTIFY: the transfer must not be
	 * reported as a success. */
	W.b.refer_mode = 2;
	connect_call();
	assert_int_equal(
	    sip_call_refer(W.a.call, "sip:carol@127.0.0.1", NULL, 5000, refer_cb, &W.a), 0);
	run_until(refer_done, 3000);
	assert_int_equal(W.a.refer_status, 487);
	run_until(both_ended, 3000);
	assert_int_equal(W.a.end_status, 200);
}

static void test_shutdown_ends_calls(void **state)
{
	(void)state;
	connect_call();
	/* teardown shuts both down with the call up: BYE goes out and both report the end */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answer_and_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bye_from_callee, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reject_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_while_ringing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_resume_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_glare, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_dtmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refer_notify_200, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refer_notify_486, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refer_call_ends_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_ends_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
