/* The livekit.SIP trunk and dispatch-rule RPCs on the Twirp registry, answered from the
 * store: Create/Update/Get/List/Delete of inbound and outbound trunks and dispatch rules. */
#ifndef SB_API_SIP_SERVICE_H
#define SB_API_SIP_SERVICE_H

#include "api/twirp.h"
#include "store/store.h"

/*
 * Handlers are synchronous (a Twirp handler answers before it returns) while the store
 * persists asynchronously: a write changes the store's memory at once and lands in the
 * database later. So a handler answers from memory as soon as the store accepted the write,
 * and a write that later fails to persist is logged (error level, with the RPC and the id)
 * from its completion callback; memory keeps the new value, as the store documents. A write
 * the store refuses at once (queue full, closing, out of memory) is answered with a Twirp
 * error and changes nothing.
 *
 * Errors, as LiveKit answers them (research/livekit-api.md §3.1): a request that fails
 * parsing, validation or a conflict check gets invalid_argument with sip_json's message;
 * an unknown id gets not_found "requested sip trunk does not exist" / "requested sip
 * dispatch rule does not exist" (DeleteSIPTrunk too, where LK answers success for any id);
 * a full write queue gets unavailable, out of memory internal.
 *
 * The store must outlive the registry (close the API server before the store).
 */

/* Register every livekit.SIP trunk and rule method with arg = store. 0 or the first error of
 * twirp_register (SB_EEXISTS, SB_ENOMEM, ...). */
int sip_service_register(struct twirp_server *t, struct store *store);

#endif
