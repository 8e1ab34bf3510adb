/* Command-line parsing of the client commands: global options anywhere in argv, then the
 * flags and positional arguments of one command against its flag table. */
#include "cli/args.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"

/* "--name" or "--name=value" matches name; *value gets what follows '=' (or NULL). */
static bool match(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(arg, "--", 2) || strncmp(arg + 2, name, n))
		return false;
	if (arg[2 + n] == '\0') {
		*value = NULL;
		return true;
	}
	if (arg[2 + n] == '=') {
		*value = arg + 3 + n;
		return true;
	}
	return false;
}

static const char **global_slot(struct cli_global *g, const char *arg, const char **value)
{
	if (match(arg, "url", value))
		return &g->url;
	if (match(arg, "api-key", value))
		return &g->api_key;
	if (match(arg, "api-secret", value))
		return &g->api_secret;
	return NULL;
}

int cli_global_take(struct cli_global *g, int argc, char **argv, char *err, size_t cap)
{
	int out = 0;
	bool rest = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		const char **slot = rest ? NULL : global_slot(g, a, &v);
		if (slot) {
			if (!v && i + 1 >= argc) {
				snprintf(err, cap, "%s needs a value", a);
				return -1;
			}
			*slot = v ? v : argv[++i];
		} else if (!rest && !strcmp(a, "--json")) {
			g->json = true;
		} else if (!rest && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
			g->help = true;
		} else {
			rest |= !strcmp(a, "--");
			argv[out++] = argv[i];
		}
	}
	return out;
}

static int find_flag(const struct cli_args *a, const char *arg, const char **value)
{
	for (size_t i = 0; i < a->n_flags; i++)
		if (match(arg, a->flags[i].name, value))
			return (int)i;
	return -1;
}

int cli_args_parse(struct cli_args *a, const struct cli_flag *flags, size_t n_flags, int argc,
		   char **argv, char *err, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->n_flags = n_flags < CLI_MAX_FLAGS ? n_flags : CLI_MAX_FLAGS;
	bool rest = false;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		if (!rest && !strcmp(arg, "--")) {
			rest = true;
			continue;
		}
		if (rest || strncmp(arg, "--", 2)) {
			if (a->n_pos >= CLI_MAX_POS) {
				snprintf(err, cap, "too many arguments");
				return SB_EINVAL;
			}
			a->pos[a->n_pos++] = arg;
			continue;
		}
		int f = find_flag(a, arg, &v);
		if (f < 0) {
			snprintf(err, cap, "unknown option %s", arg);
			return SB_EINVAL;
		}
		if (flags[f].kind == CLI_FLAG_VALUE && !v) {
			if (i + 1 >= argc) {
				snprintf(err, cap, "--%s needs a value", flags[f].name);
				return SB_EINVAL;
			}
			v = argv[++i];
		}
		a->val[f] = v ? v : "";
	}
	return 0;
}

const char *cli_arg(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->n_flags; i++)
		if (!strcmp(a->flags[i].name, name))
			return a->val[i];
	return NULL;
}
