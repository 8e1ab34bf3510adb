/* Command-line parsing of the client commands: the global options (--url, --api-key,
 * --api-secret, --json) taken out of argv wherever they are, then one command's flags. */
#ifndef SB_CLI_ARGS_H
#define SB_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_MAX_FLAGS 24
#define CLI_MAX_POS   8

enum cli_flag_kind {
	CLI_FLAG_VALUE, /* --name VALUE or --name=VALUE */
	CLI_FLAG_BOOL,	/* --name, or --name=VALUE where the command gives VALUE a meaning */
};

struct cli_flag {
	const char *name; /* without the leading "--" */
	enum cli_flag_kind kind;
	const char *help; /* "--name VALUE  what it does" line of the usage text */
};

/* One command's parsed flags and positional arguments; strings point into argv. */
struct cli_args {
	const struct cli_flag *flags;
	size_t n_flags;
	const char *val[CLI_MAX_FLAGS]; /* NULL: absent; "" for a bare bool flag */
	const char *pos[CLI_MAX_POS];
	size_t n_pos;
};

/* The options every command takes; NULL / false when not given. */
struct cli_global {
	const char *url, *api_key, *api_secret;
	bool json, help;
};

/* Take the global options out of argv (in place, order of the rest kept); returns the new
 * argc, or -1 with a message in err. "--" stops the scan. */
int cli_global_take(struct cli_global *g, int argc, char **argv, char *err, size_t cap);

/* Parse argv against flags: "--" ends the flags, "-" is positional (stdin). 0, or
 * SB_EINVAL with a message in err (unknown flag, missing value, too many arguments). */
int cli_args_parse(struct cli_args *a, const struct cli_flag *flags, size_t n_flags, int argc,
		   char **argv, char *err, size_t cap);

/* The value of --name: NULL when absent, "" for a bare bool flag. */
const char *cli_arg(const struct cli_args *a, const char *name);
static inline bool cli_arg_has(const struct cli_args *a, const char *name)
{
	return cli_arg(a, name) != NULL;
}

#endif
