/* How the client commands show an answer: tables for lists, "Label: value" lines for one
 * object, the raw JSON with --json. Each returns the command's exit code. */
#ifndef SB_CLI_PRINT_H
#define SB_CLI_PRINT_H

#include <jansson.h>

#include "cli/cmd.h"

int cli_print_inbound(const struct cli_out *o, const json_t *resp);
int cli_print_inbound_list(const struct cli_out *o, const json_t *resp);
int cli_print_outbound(const struct cli_out *o, const json_t *resp);
int cli_print_outbound_list(const struct cli_out *o, const json_t *resp);
int cli_print_rule(const struct cli_out *o, const json_t *resp);
int cli_print_rule_list(const struct cli_out *o, const json_t *resp);
/* The one rule of a list filtered by id; not_found (exit 1) when the list is empty. */
int cli_print_rule_found(const struct cli_out *o, const json_t *resp);
int cli_print_deleted(const struct cli_out *o, const json_t *resp);
int cli_print_sip_participant(const struct cli_out *o, const json_t *resp);
int cli_print_hold(const struct cli_out *o, const json_t *resp);
int cli_print_done(const struct cli_out *o, const json_t *resp);
int cli_print_rooms(const struct cli_out *o, const json_t *resp);
int cli_print_participants(const struct cli_out *o, const json_t *resp);

#endif
