/* `switchboard sip ...` and `switchboard room ...`: the client commands, shaped like LiveKit's
 * `lk sip` CLI, that drive a running switchboard over its Twirp HTTP API. */
#ifndef SB_CLI_CLI_H
#define SB_CLI_CLI_H

#include <stdbool.h>

/* What applies when neither a flag nor an environment variable says otherwise. */
struct cli_defaults {
	const char *url; /* e.g. http://127.0.0.1:7880 */
	const char *api_key, *api_secret;
};

/* Whether argv (the arguments after the program name) is a client command: "sip" or "room",
 * maybe after global options (--url URL, --api-key K, --api-secret S, --json). */
bool cli_is_command(int argc, char **argv);

/* Run it (argv as for cli_is_command; reordered in place). Exit code: 0, 1 for an API or
 * connection error, 2 for a usage error. */
int cli_main(const struct cli_defaults *d, int argc, char **argv);

#endif
