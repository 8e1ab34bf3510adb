/* The YAML reader's private parts, shared by config.c (the file and the flags),
 * config_sip.c (`sip:` trunks and dispatch rules) and config_agents.c (`agents:`). */
#ifndef SB_APP_CONFIG_INT_H
#define SB_APP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "api/agent_close.h"
#include "app/config.h"
#include "base/compat.h"

struct yctx {
	struct sb_config *c;
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t cap;
	struct sb_config_sip *sip;   /* the `sip:` section being read */
	struct api_agent_def *agent; /* the `agents:` entry being read */
};

#define FOR_PAIRS(map, pair)                                                                       \
	for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                             \
	     pair < (map)->data.mapping.pairs.top; pair++)

#define FOR_ITEMS(seq, item)                                                                       \
	for (yaml_node_item_t *item = (seq)->data.sequence.items.start;                            \
	     item < (seq)->data.sequence.items.top; item++)

typedef int (*section_fn)(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			  yaml_node_t *v);

/* Reading helpers (config.c). fail writes "FILE:LINE: KEY: message" and returns SB_EINVAL. */
size_t config__line_of(const yaml_node_t *n);
int config__fail(struct yctx *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
    SB_PRINTF(4, 5);
const char *config__scalar(const yaml_node_t *n);
bool config__is_null(const yaml_node_t *n);
const char *config__type_name(const yaml_node_t *n);
void config__warn_ignored(struct yctx *y, const yaml_node_t *n, const char *key, const char *why);
yaml_node_t *config__node(struct yctx *y, int id);
int config__want_mapping(struct yctx *y, const yaml_node_t *v, const char *key);
int config__walk_section(struct yctx *y, yaml_node_t *map, const char *prefix, section_fn fn);

/* Values (config.c), names (config_sip.c), close plans (config_sip.c). */
int config__parse_u64(const char *v, uint64_t max, uint64_t *out);
int config__parse_duration_ms(const char *v, uint64_t unit_ms, uint64_t *out);
int config__parse_bool(const char *v, uint32_t *out);
bool config__key_is(const char *k, const char *snake, const char *camel);
void config__close_free(struct api_agent_close *a);

/* The sections (config_sip.c, config_agents.c). */
int config__section_sip(struct yctx *y, const char *key, yaml_node_t *v);
int config__section_agents(struct yctx *y, const char *key, yaml_node_t *v);
/* `agent_close:` (and an agent's on_close): hangup, {play: FILE}, {transfer: URI}. */
int config__parse_close(struct yctx *y, const char *key, yaml_node_t *v,
			struct api_agent_close *out);

#endif
