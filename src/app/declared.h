/* Trunks and dispatch rules declared in switchboard.yaml (`sip:`), applied to the store at
 * start-up. The file is the source of truth for the ids it declares, and only for those. */
#ifndef SB_APP_DECLARED_H
#define SB_APP_DECLARED_H

#include <stddef.h>

#include "app/config.h"
#include "store/store.h"

/* Check the declared records against the store's other records with the API's conflict checks
 * (sip_json_check_*), then create each under its id or replace the record with that id; a
 * trunk declared in the other direction than the stored one replaces it. Records with other
 * ids are left alone. On a conflict nothing is written and err reads
 * "FILE:LINE: sip.inbound_trunks[0]: Conflicting inbound SIP Trunks: ...". The writes land
 * later on the store's thread; one that fails there is logged. 0, SB_EINVAL or SB_ENOMEM. */
int sb_declared_apply(struct store *s, const struct sb_config_sip *d, char *err, size_t cap);

#endif
