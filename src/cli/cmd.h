/* The client commands: one table row per `switchboard GROUP VERB` naming its RPC, the grant
 * its token carries, its flags, how its request is built (pure: flags -> JSON) and printed. */
#ifndef SB_CLI_CMD_H
#define SB_CLI_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "api/token.h"
#include "cli/args.h"

/* Reads a JSON object from path ("-" = stdin); 0 or a negative code with err set. */
typedef int (*cli_load_fn)(const char *path, json_t **out, char *err, size_t cap);

/* What a builder reads and writes. */
struct cli_build {
	const struct cli_args *a;
	cli_load_fn load;
	json_t *req;	 /* out: the request; the caller json_decref()s it */
	bool no_timeout; /* out: the RPC may take long (a waited call, a transfer) */
	char err[256];	 /* out: why the arguments are wrong */
};

/* How a printer writes the answer. */
struct cli_out {
	FILE *out, *err;
	const struct cli_args *a;
	bool json;	 /* print the raw answer */
	const char *raw; /* the answer's bytes, NUL-terminated */
};

struct cli_cmd {
	const char *group; /* "sip inbound", "room" */
	const char *verb;  /* "create" */
	const char *service, *method;
	enum api_perm perm; /* what the token grants (video.room = the request's room) */
	const struct cli_flag *flags;
	size_t n_flags;
	const char *synopsis; /* arguments after "switchboard GROUP VERB" */
	size_t min_pos, max_pos;
	int (*build)(struct cli_build *b);			   /* 0 or SB_EINVAL with b->err */
	int (*print)(const struct cli_out *o, const json_t *resp); /* exit code */
};

/* The command GROUP VERB, or NULL. */
const struct cli_cmd *cli_cmd_find(const char *group, const char *verb);
/* Whether GROUP ("sip inbound", "room") has commands. */
bool cli_cmd_group_exists(const char *group);
/* Usage of every command of group (all groups of "sip" when group is "sip"). */
void cli_cmd_usage(FILE *f, const char *group);
/* Flags, positional count and the builder: 0 with b->req, or SB_EINVAL with b->err. */
int cli_cmd_build(const struct cli_cmd *c, struct cli_build *b);

/* "30", "30s", "1.5s", "500ms", "2m", "1h" -> a protobuf JSON duration ("30s", "1.500s").
 * 0 or SB_EINVAL. */
int cli_duration(const char *text, char *out, size_t cap);

#endif
