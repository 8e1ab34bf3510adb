/* Prometheus text exposition (format 0.0.4): owns the writer (headers, samples, escaping) and the
 * list of switchboard_ metrics rendered from one snapshot; no I/O, no clock, no module state. */
#include "api/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_metrics_escape(struct sb_buf *b, const char *value)
{
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\')
			sb_buf_append(b, "\\\\", 2);
		else if (*p == '"')
			sb_buf_append(b, "\\\"", 2);
		else if (*p == '\n')
			sb_buf_append(b, "\\n", 2);
		else
			sb_buf_append_char(b, *p);
	}
}

void api_metrics_header(struct sb_buf *b, const char *name, enum api_metric_type type,
			const char *help)
{
	sb_buf_printf(b, "# HELP %s ", name);
	/* HELP escapes backslash and newline only (a double quote stays as it is) */
	for (const char *p = help ? help : ""; *p; p++) {
		if (*p == '\\')
			sb_buf_append(b, "\\\\", 2);
		else if (*p == '\n')
			sb_buf_append(b, "\\n", 2);
		else
			sb_buf_append_char(b, *p);
	}
	sb_buf_printf(b, "\n# TYPE %s %s\n", name,
		      type == API_METRIC_COUNTER ? "counter" : "gauge");
}

static void sample_head(struct sb_buf *b, const char *name, const struct api_metric_label *labels,
			size_t n)
{
	sb_buf_append_cstr(b, name);
	if (!n)
		return;
	sb_buf_append_char(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_buf_append_char(b, ',');
		sb_buf_append_cstr(b, labels[i].name);
		sb_buf_append(b, "=\"", 2);
		api_metrics_escape(b, labels[i].value);
		sb_buf_append_char(b, '"');
	}
	sb_buf_append_char(b, '}');
}

void api_metrics_sample_u64(struct sb_buf *b, const char *name,
			    const struct api_metric_label *labels, size_t n_labels, uint64_t value)
{
	sample_head(b, name, labels, n_labels);
	sb_buf_append_char(b, ' ');
	sb_buf_append_u64(b, (unsigned long long)value);
	sb_buf_append_char(b, '\n');
}

void api_metrics_sample(struct sb_buf *b, const char *name, const struct api_metric_label *labels,
			size_t n_labels, double value)
{
	sample_head(b, name, labels, n_labels);
	char num[40];
	if (isnan(value)) {
		snprintf(num, sizeof(num), "NaN");
	} else if (isinf(value)) {
		snprintf(num, sizeof(num), "%s", value > 0 ? "+Inf" : "-Inf");
	} else if (value == floor(value) && fabs(value) < 1e15) {
		snprintf(num, sizeof(num), "%.0f", value);
	} else {
		snprintf(num, sizeof(num), "%.15g", value);
		if (strtod(num, NULL) != value)
			snprintf(num, sizeof(num), "%.17g", value);
	}
	sb_buf_printf(b, " %s\n", num);
}

/* ---- the switchboard_ metrics ---- */

#define M(name) API_METRICS_PREFIX name

static const char *const dir_name[2] = {"inbound", "outbound"};
static const char *const sip_dir_name[SIP_COUNT__DIRS] = {"received", "sent"};

static void render_calls(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	const struct call_metrics *c = &s->calls;
	api_metrics_header(b, M("calls"), API_METRIC_GAUGE, "Calls now, by state and direction.");
	for (int d = 0; d < 2; d++)
		for (int st = 0; st < CALL_METRIC__STATES; st++) {
			struct api_metric_label l[] = {
			    {"state", call_metric_state_name((enum call_metric_state)st)},
			    {"direction", dir_name[d]}};
			api_metrics_sample_u64(b, M("calls"), l, 2, c->calls[d][st]);
		}
	api_metrics_header(b, M("calls_total"), API_METRIC_COUNTER,
			   "Calls started (INVITEs received or sent that became calls).");
	for (int d = 0; d < 2; d++) {
		struct api_metric_label l[] = {{"direction", dir_name[d]}};
		api_metrics_sample_u64(b, M("calls_total"), l, 1, c->started[d]);
	}
	api_metrics_header(b, M("calls_ended_total"), API_METRIC_COUNTER,
			   "Calls over (SIP side ended and media gone), by whether they were "
			   "answered.");
	for (int d = 0; d < 2; d++)
		for (int a = 0; a < 2; a++) {
			struct api_metric_label l[] = {{"direction", dir_name[d]},
						       {"answered", a ? "true" : "false"}};
			api_metrics_sample_u64(b, M("calls_ended_total"), l, 2, c->ended[d][a]);
		}
	api_metrics_header(b, M("calls_per_second"), API_METRIC_GAUGE,
			   "Calls started per second over the last 10 s (for people; Prometheus: "
			   "rate(switchboard_calls_total)).");
	api_metrics_sample(b, M("calls_per_second"), NULL, 0, c->cps);
}

static void render_rtp(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	const struct call_metrics *c = &s->calls;
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
	    {M("rtp_packets_received_total"), "RTP packets received on the calls' legs.",
	     offsetof(struct call_metrics, rtp_rx_packets)},
	    {M("rtp_packets_sent_total"), "RTP packets sent on the calls' legs.",
	     offsetof(struct call_metrics, rtp_tx_packets)},
	    {M("rtp_packets_lost_total"), "RTP packets lost (sequence gaps) on the calls' legs.",
	     offsetof(struct call_metrics, rtp_lost)},
	    {M("rtp_bytes_received_total"),
	     "RTP bytes received on the calls' legs (headers included).",
	     offsetof(struct call_metrics, rtp_rx_bytes)},
	    {M("rtp_bytes_sent_total"), "RTP bytes sent on the calls' legs (headers included).",
	     offsetof(struct call_metrics, rtp_tx_bytes)},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)c + counters[i].off, sizeof(v));
		api_metrics_header(b, counters[i].name, API_METRIC_COUNTER, counters[i].help);
		api_metrics_sample_u64(b, counters[i].name, NULL, 0, v);
	}
	api_metrics_header(b, M("rtp_legs"), API_METRIC_GAUGE,
			   "Calls' RTP legs with a media report (the jitter population).");
	api_metrics_sample_u64(b, M("rtp_legs"), NULL, 0, c->legs);
	api_metrics_header(b, M("rtp_jitter_seconds"), API_METRIC_GAUGE,
			   "Interarrival jitter (RFC 3550) over the live legs: mean and max.");
	struct api_metric_label mean[] = {{"aggregate", "mean"}};
	struct api_metric_label max[] = {{"aggregate", "max"}};
	api_metrics_sample(b, M("rtp_jitter_seconds"), mean, 1, c->jitter_mean_ms / 1000.0);
	api_metrics_sample(b, M("rtp_jitter_seconds"), max, 1, c->jitter_max_ms / 1000.0);
}

static void render_rooms(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	api_metrics_header(b, M("rooms"), API_METRIC_GAUGE, "Rooms now.");
	api_metrics_sample_u64(b, M("rooms"), NULL, 0, s->rooms.rooms);
	api_metrics_header(b, M("participants"), API_METRIC_GAUGE,
			   "Room participants now, by kind.");
	for (int k = 0; k < ROOM_PART_KINDS; k++) {
		struct api_metric_label l[] = {
		    {"kind", room_part_kind_name((enum room_part_kind)k)}};
		api_metrics_sample_u64(b, M("participants"), l, 1, s->rooms.participants[k]);
	}
}

static void render_sip(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	const struct sip_counters *c = &s->sip;
	api_metrics_header(b, M("sip_requests_total"), API_METRIC_COUNTER,
			   "SIP requests by method (retransmissions included).");
	for (int d = 0; d < SIP_COUNT__DIRS; d++)
		for (int m = 0; m < SIP_METHOD__COUNT; m++) {
			uint64_t v = c->msgs.requests[d][m];
			/* the usual methods always; others once seen */
			bool usual = m == SIP_METHOD_INVITE || m == SIP_METHOD_ACK ||
				     m == SIP_METHOD_BYE || m == SIP_METHOD_CANCEL;
			if (!v && !usual)
				continue;
			struct api_metric_label l[] = {
			    {"method",
			     m == SIP_METHOD_OTHER ? "other" : sip_method_name((enum sip_method)m)},
			    {"direction", sip_dir_name[d]}};
			api_metrics_sample_u64(b, M("sip_requests_total"), l, 2, v);
		}
	api_metrics_header(b, M("sip_responses_total"), API_METRIC_COUNTER,
			   "SIP responses by status code (retransmissions included).");
	for (int d = 0; d < SIP_COUNT__DIRS; d++)
		for (int i = 0; i <= SIP_COUNT_STATUS_MAX - SIP_COUNT_STATUS_MIN; i++) {
			uint64_t v = c->msgs.responses[d][i];
			if (!v)
				continue;
			char code[8];
			snprintf(code, sizeof(code), "%d", i + SIP_COUNT_STATUS_MIN);
			struct api_metric_label l[] = {{"code", code},
						       {"direction", sip_dir_name[d]}};
			api_metrics_sample_u64(b, M("sip_responses_total"), l, 2, v);
		}
	api_metrics_header(b, M("sip_malformed_total"), API_METRIC_COUNTER,
			   "SIP messages received that did not parse.");
	api_metrics_sample_u64(b, M("sip_malformed_total"), NULL, 0, c->transport.rx_malformed);
	api_metrics_header(b, M("sip_send_errors_total"), API_METRIC_COUNTER,
			   "SIP messages the transport could not send.");
	api_metrics_sample_u64(b, M("sip_send_errors_total"), NULL, 0, c->transport.tx_errors);
	api_metrics_header(b, M("sip_connections"), API_METRIC_GAUGE,
			   "SIP TCP/TLS connections open now.");
	api_metrics_sample_u64(b, M("sip_connections"), NULL, 0, c->transport.conns_open);
	api_metrics_header(b, M("sip_dialogs"), API_METRIC_GAUGE,
			   "INVITE dialogs the SIP stack holds now.");
	api_metrics_sample_u64(b, M("sip_dialogs"), NULL, 0, c->calls);
}

static void render_webhooks(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	const struct api_webhook_stats *w = &s->webhooks;
	static const struct {
		const char *name, *help;
		size_t off;
		enum api_metric_type type;
	} list[] = {
	    {M("webhooks_delivered_total"), "Webhook events delivered (answered 2xx), per URL.",
	     offsetof(struct api_webhook_stats, sent), API_METRIC_COUNTER},
	    {M("webhooks_failed_total"), "Webhook events given up after all their attempts.",
	     offsetof(struct api_webhook_stats, given_up), API_METRIC_COUNTER},
	    {M("webhook_attempts_failed_total"),
	     "Webhook attempts that failed (connection error, timeout or non-2xx).",
	     offsetof(struct api_webhook_stats, attempts_failed), API_METRIC_COUNTER},
	    {M("webhooks_dropped_total"), "Webhook events dropped from a full queue.",
	     offsetof(struct api_webhook_stats, dropped), API_METRIC_COUNTER},
	    {M("webhooks_queued"), "Webhook events waiting or in flight now.",
	     offsetof(struct api_webhook_stats, queued), API_METRIC_GAUGE},
	};
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)w + list[i].off, sizeof(v));
		api_metrics_header(b, list[i].name, list[i].type, list[i].help);
		api_metrics_sample_u64(b, list[i].name, NULL, 0, v);
	}
}

void api_metrics_render(struct sb_buf *b, const struct api_metrics_snapshot *s)
{
	render_calls(b, s);
	render_rtp(b, s);
	render_rooms(b, s);
	render_sip(b, s);
	render_webhooks(b, s);
	api_metrics_header(b, M("uptime_seconds"), API_METRIC_GAUGE,
			   "Seconds since the API server started.");
	api_metrics_sample(b, M("uptime_seconds"), NULL, 0, s->uptime_s);
	api_metrics_header(b, M("build_info"), API_METRIC_GAUGE,
			   "Always 1; the version is in the label.");
	struct api_metric_label v[] = {{"version", s->version ? s->version : ""}};
	api_metrics_sample_u64(b, M("build_info"), v, 1, 1);
}
