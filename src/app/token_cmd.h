/* `switchboard token`: print an access token signed with an API key and secret, for curl,
 * scripts and tests. */
#ifndef SB_APP_TOKEN_CMD_H
#define SB_APP_TOKEN_CMD_H

#include "app/config.h"

/* argv holds the flags after "token"; cfg gives the default key and secret. Exit code. */
int sb_cmd_token(struct sb_config *cfg, int argc, char **argv);

#endif
