/* Entry of the client commands: global options and environment, the command words, then
 * build the request, sign a token, POST it and print the answer or the error. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"

#define EXIT_API   1
#define EXIT_USAGE 2

/* The flag, else the first environment variable set and not empty, else the default. */
static const char *pick(const char *flag, const char *env1, const char *env2, const char *dflt)
{
	const char *e1 = getenv(env1), *e2 = getenv(env2);
	if (flag)
		return flag;
	if (e1 && *e1)
		return e1;
	if (e2 && *e2)
		return e2;
	return dflt;
}

static int usage(FILE *f, const char *group, int code)
{
	fprintf(f, "usage:\n");
	cli_cmd_usage(f, group);
	return code;
}

/* JSON object from a file or stdin ("-"). */
static int load_file(const char *path, json_t **out, char *err, size_t cap)
{
	json_error_t je;
	json_t *j = !strcmp(path, "-") ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
	if (!j) {
		snprintf(err, cap, "%s: %s (line %d)", path, je.text, je.line);
		return SB_EINVAL;
	}
	*out = j;
	return 0;
}

/* The answer of a successful call, printed by the command. */
static int show(const struct cli_cmd *c, const struct cli_args *a, bool json,
		const struct cli_reply *r)
{
	json_t *resp = json_loadb(r->body, r->len, 0, NULL);
	if (!resp) {
		fprintf(stderr, "error: the server's answer is not JSON: %.200s\n", r->body);
		return EXIT_API;
	}
	struct cli_out o = {.out = stdout, .err = stderr, .a = a, .json = json, .raw = r->body};
	int rc = c->print(&o, resp);
	json_decref(resp);
	return rc;
}

/* Sign, POST, print. */
static int run(const struct cli_cmd *c, const struct cli_args *a, const struct cli_conn *conn,
	       bool json, struct cli_build *b)
{
	char url[2048], err[CURL_ERROR_SIZE + 512];
	if (cli_endpoint(conn->url, c->service, c->method, url, sizeof(url))) {
		fprintf(stderr, "error: bad URL '%s' (want http://HOST:PORT or https://...)\n",
			conn->url);
		return EXIT_USAGE;
	}
	struct api_claims g;
	cli_grants(c->service, c->method, c->perm, b->req, &g);
	char *token = NULL, *body = json_dumps(b->req, JSON_COMPACT);
	int rc = body ? cli_token(conn, &g, sb_clock_wall_s(), &token) : SB_ENOMEM;
	if (rc) {
		fprintf(stderr, "error: cannot make a token: %s\n", sb_strerror(rc));
		free(body);
		return EXIT_USAGE;
	}
	struct cli_reply r;
	rc = cli_post(url, token, body, b->no_timeout, &r, err, sizeof(err));
	free(token);
	free(body);
	if (rc) {
		fprintf(stderr, "error: cannot reach %s: %s\n", conn->url, err);
		return EXIT_API;
	}
	if (r.status == 200) {
		rc = show(c, a, json, &r);
	} else {
		cli_twirp_error(r.status, r.body, err, sizeof(err));
		fprintf(stderr, "%s\n", err);
		rc = EXIT_API;
	}
	cli_reply_free(&r);
	return rc;
}

static int run_cmd(const struct cli_cmd *c, const struct cli_defaults *d,
		   const struct cli_global *g, int argc, char **argv)
{
	char err[512];
	struct cli_args a;
	if (cli_args_parse(&a, c->flags, c->n_flags, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "switchboard %s %s: %s\n", c->group, c->verb, err);
		return usage(stderr, c->group, EXIT_USAGE);
	}
	struct cli_build b = {.a = &a, .load = load_file};
	if (cli_cmd_build(c, &b)) {
		fprintf(stderr, "switchboard %s %s: %s\n", c->group, c->verb, b.err);
		return usage(stderr, c->group, EXIT_USAGE);
	}
	struct cli_conn conn = {
	    .url = pick(g->url, "SWITCHBOARD_URL", "LIVEKIT_URL", d->url),
	    .api_key = pick(g->api_key, "SWITCHBOARD_API_KEY", "LIVEKIT_API_KEY", d->api_key),
	    .api_secret =
		pick(g->api_secret, "SWITCHBOARD_API_SECRET", "LIVEKIT_API_SECRET", d->api_secret),
	};
	int rc = run(c, &a, &conn, g->json, &b);
	json_decref(b.req);
	return rc;
}

static bool is_group_word(const char *w)
{
	return !strcmp(w, "sip") || !strcmp(w, "room");
}

bool cli_is_command(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_group_word(a))
			return true;
		if (!strcmp(a, "--url") || !strcmp(a, "--api-key") || !strcmp(a, "--api-secret"))
			i++;
		else if (strncmp(a, "--url=", 6) && strncmp(a, "--api-key=", 10) &&
			 strncmp(a, "--api-secret=", 13) && strcmp(a, "--json"))
			return false;
	}
	return false;
}

int cli_main(const struct cli_defaults *d, int argc, char **argv)
{
	struct cli_global g = {0};
	char err[256], group[64];
	int n = cli_global_take(&g, argc, argv, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "switchboard: %s\n", err);
		return EXIT_USAGE;
	}
	if (n < 1 || !is_group_word(argv[0])) {
		fprintf(stderr, "switchboard: want sip or room\n");
		return EXIT_USAGE;
	}
	const char *top = argv[0];
	char **w = argv + 1;
	n--;
	bool sip = !strcmp(top, "sip");
	int words = sip ? 2 : 1; /* "sip inbound create", "room list" */
	snprintf(group, sizeof(group), "%s", top);
	if (sip && n >= 1 && w[0][0] != '-')
		snprintf(group, sizeof(group), "sip %s", w[0]);
	if (!cli_cmd_group_exists(group)) {
		fprintf(stderr, "switchboard: unknown command '%s'\n", group);
		return usage(stderr, top, EXIT_USAGE);
	}
	if (n < words || w[words - 1][0] == '-')
		return g.help ? usage(stdout, group, 0) : usage(stderr, group, EXIT_USAGE);
	const struct cli_cmd *c = cli_cmd_find(group, w[words - 1]);
	if (!c) {
		fprintf(stderr, "switchboard: unknown command '%s %s'\n", group, w[words - 1]);
		return usage(stderr, group, EXIT_USAGE);
	}
	if (g.help)
		return usage(stdout, group, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = run_cmd(c, d, &g, n - words, w + words);
	curl_global_cleanup();
	return rc;
}
