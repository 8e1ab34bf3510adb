/* Prometheus metrics: a writer for the text exposition format 0.0.4 (HELP/TYPE headers, samples
 * with escaped label values) and the rendering of one snapshot of every module's figures. */
#ifndef SB_API_METRICS_H
#define SB_API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/webhook.h"
#include "base/buf.h"
#include "call/call.h"
#include "room/room.h"
#include "sip/ua.h"

#define API_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define API_METRICS_PREFIX	 "switchboard_"

enum api_metric_type { API_METRIC_COUNTER, API_METRIC_GAUGE };

struct api_metric_label {
	const char *name; /* [a-zA-Z_][a-zA-Z0-9_]*, not checked */
	const char *value;
};

/* "# HELP name help" (help escaped: backslash and newline) and "# TYPE name counter|gauge".
 * Once per metric, before its samples. */
void api_metrics_header(struct sb_buf *b, const char *name, enum api_metric_type type,
			const char *help);
/* `name{a="x",b="y"} value` (no braces without labels); label values escaped (backslash,
 * double quote, newline). Integers exactly; other values shortest-round-trip, NaN, +Inf, -Inf. */
void api_metrics_sample(struct sb_buf *b, const char *name, const struct api_metric_label *labels,
			size_t n_labels, double value);
void api_metrics_sample_u64(struct sb_buf *b, const char *name,
			    const struct api_metric_label *labels, size_t n_labels, uint64_t value);
/* A label value as the format wants it, appended to b. */
void api_metrics_escape(struct sb_buf *b, const char *value);

/* Everything one scrape shows, read from the modules' getters on the control loop. A module
 * the server does not have is left zeroed (its series still appear, with zeros). */
struct api_metrics_snapshot {
	const char *version; /* switchboard_build_info */
	double uptime_s;
	struct call_metrics calls;
	struct room_counts rooms;
	struct sip_counters sip;
	struct api_webhook_stats webhooks;
};

/* Append the whole exposition for s to b (b->err says whether memory ran out). */
void api_metrics_render(struct sb_buf *b, const struct api_metrics_snapshot *s);

#endif
