/* livekit.SIP's call RPCs: CreateSIPParticipant (an outbound call through an outbound trunk
 * that joins a room) and TransferSIPParticipant (a cold transfer by REFER that reports whether
 * it really succeeded). Both may answer later, once the SIP outcome is known (twirp_defer). */
#ifndef SB_API_SIP_CALL_SERVICE_H
#define SB_API_SIP_CALL_SERVICE_H

#include "api/twirp.h"
#include "call/call.h"
#include "store/store.h"

/*
 * CreateSIPParticipant (research/livekit-api.md §3.7, §6.3): the trunk from the store
 * (sip_trunk_id; not_found when unknown) or inline (`trunk`); the participant joins room_name
 * at once with sip.callStatus "dialing" and the INVITE goes to sip:<sip_call_to>@<address>
 * over the trunk's transport, From <sip_number or the trunk's first number>, the trunk's and
 * the request's headers, digest auth with the trunk's credentials. Without
 * wait_until_answered the answer is SIPParticipantInfo {participant_id, participant_identity,
 * room_name, sip_call_id} at once; with it, only after the 200 OK and the DTMF string, or the
 * failure: the final SIP status mapped as LK does (486 -> resource_exhausted, 404 ->
 * not_found, 603 -> permission_denied ...) with meta sip_status_code / sip_status; no answer
 * within ringing_timeout -> CANCEL and `canceled` "sip request timed out" (no meta).
 *
 * TransferSIPParticipant (§3.8, §6.4): REFER to transfer_to, then the RPC waits for the final
 * NOTIFY (up to ringing_timeout, 30 s by default): 2xx -> {} and the call is hung up; a REFER
 * rejected or a NOTIFY with a failure -> the SIP status mapped as above with meta; no final
 * NOTIFY in time -> `canceled` "refer canceled"; the call ending first -> `aborted` with
 * sip_status_code 487 (never a success). not_found for an unknown participant,
 * failed_precondition when the call is not established or a transfer is pending.
 */
struct sip_call_service;
/* Register both methods on t (store and calls borrowed; free s after t's last request). */
int sip_call_service_register(struct twirp_server *t, struct store *store, struct call_mgr *calls,
			      struct sip_call_service **out);
void sip_call_service_free(struct sip_call_service *s);

/* Run a transfer and answer call once it is over (twirp_defer): start(ctx, done, w) starts it
 * and later calls done(w, status, reason) once (call_mgr_transfer_participant's contract).
 * 2xx answers {}; a failure the SIP status mapped with meta; 408 "no final NOTIFY" canceled.
 * 0 (answered or deferred), or an error with e set. */
int sip_call_transfer_wait(const struct twirp_call *call, struct twirp_error *e,
			   int (*start)(void *ctx, void (*done)(void *, int, const char *),
					void *w),
			   void *ctx);

/* LK's SIP status -> Twirp code table (§6.3). */
enum twirp_code sip_call_status_code(int sip_status);

#endif
