/* The switchboard.Calls Twirp service (what LiveKit lacks): hold, resume, DTMF and live call
 * statistics for a room's SIP participant, through the call manager. */
#ifndef SB_API_CALLS_SERVICE_H
#define SB_API_CALLS_SERVICE_H

#include <stdbool.h>

#include "api/twirp.h"
#include "call/call.h"
#include "room/room.h"

/*
 * POST /twirp/switchboard.Calls/<Method>, with room_service.h's JSON conventions (requests in
 * camelCase or snake_case, unknown fields ignored, a field of the wrong type is `malformed`;
 * responses in snake_case with every field present, int64 as strings, no null).
 *
 *   HoldParticipant    {room, identity} -> {hold_status}. Sends a re-INVITE with a=sendonly and
 *                      a new SDP version (the far end plays its music on hold) and holds the
 *                      participant at once: not heard, not fed, media timeouts suspended.
 *   ResumeParticipant  {room, identity} -> {hold_status}. A re-INVITE with a=sendrecv; the
 *                      participant is heard and fed again once the far end accepts it.
 *   SendDTMF           {room, identity, digits} -> {}. 0-9 * # A-D, `w` = a 0.5 s pause; RFC
 *                      4733 events when negotiated, else in-band tones (room_part_send_dtmf).
 *   GetCallStats       {room, identity} -> CallStats (below).
 *   AttendedTransfer   {room, identity, target_identity, timeout_seconds (default 30)} -> {}
 *                      REFER to identity's far end with Replaces naming target_identity's
 *                      dialog (both SIP calls of the room); answers once the final NOTIFY
 *                      arrives: {} on 2xx, else the SIP status mapped as TransferSIPParticipant
 *                      does (sip_call_service.h); invalid_argument when both are one call.
 *
 * Twirp handlers answer synchronously, so Hold/Resume answer as soon as the re-INVITE is sent:
 * hold_status "holding" / "resuming" (or "held" / "resumed" with no re-INVITE when the call is
 * in that state already). The far end's answer is reported afterwards on the participant's
 * attributes (see call_mgr_hold_participant: sip.hold, sip.holdStatus "held" / "resumed" /
 * "failed", sip.holdSipStatus "200" / "488" ...), so it reaches GetParticipant, webhooks and
 * room events as any attribute change does, and in GetCallStats (hold_status,
 * hold_sip_status).
 *
 * CallStats: room, identity, participant_sid, call_id (sip.callID), sip_call_id (Call-ID),
 * direction ("INBOUND" / "OUTBOUND"), codec ("PCMU" ...), payload_type, dtmf ("RFC4733" /
 * "INBAND"), on_hold, local_hold, remote_hold, hold_pending, hold_status, hold_sip_status,
 * duration_seconds (since the INVITE), answered_seconds (since the answer), active_seconds (of
 * those, not on hold), held_seconds; and the leg's RTP figures as its media worker reported
 * them (about once a second; stats_age_ms says how old, -1 when none yet, the counters are then
 * 0): packets_sent, bytes_sent, packets_received, bytes_received, packets_lost (int64
 * strings), jitter_ms, rtt_ms (RTCP; 0 until known), rtcp_sent, rtcp_received, latched.
 *
 * Grants: every method needs video.roomAdmin with video.room == room (as RoomService's
 * participant RPCs; SendData with sip_dtmf already plays DTMF under that grant).
 *
 * Errors: not_found "requested room does not exist" / "participant does not exist";
 * invalid_argument "no room name", "no identity", "no digits", "invalid DTMF digit";
 * failed_precondition "participant is not a SIP call" (any other kind, or a SIP participant
 * with no call behind it), "call is not established" (hold before the answer or while
 * ending), "a re-INVITE is pending" (glare: one hold/resume at a time), "participant is on
 * hold" (SendDTMF: no RTP flows while held); internal (out of memory); unavailable (a media
 * worker's queue is full). A refused re-INVITE cannot be a Twirp error (the answer has gone
 * by then): it is sip.holdSipStatus.
 */

struct api_calls_service;

struct api_calls_service_opts {
	struct room_service *rooms; /* required; borrowed */
	struct call_mgr *calls;	    /* required unless the hooks below are all given */
	/* Tests: replace call_mgr_hold_participant / room_part_send_dtmf /
	 * call_mgr_participant_stats (NULL = those). */
	int (*hold)(void *arg, struct room_part *p, bool hold, const char **status);
	int (*send_dtmf)(void *arg, struct room_part *p, const char *keys);
	int (*stats)(void *arg, struct room_part *p, struct call_stats *out);
	void *hook_arg;
};

/* Register the methods with arg = a context allocated here (*out); free it with
 * api_calls_service_free after the registry (twirp_free). 0, SB_EINVAL, SB_ENOMEM or
 * twirp_register's first error (then *out is set all the same: free it after twirp_free). */
int api_calls_service_register(struct twirp_server *tw, const struct api_calls_service_opts *o,
			       struct api_calls_service **out);
void api_calls_service_free(struct api_calls_service *s);

#endif
