/* The livekit.RoomService RPCs that matter for phone calls, on the Twirp registry, answered
 * from the room directory (room/) and, for SIP participants, through the call manager. */
#ifndef SB_API_ROOM_SERVICE_H
#define SB_API_ROOM_SERVICE_H

#include "api/twirp.h"
#include "call/call.h"
#include "room/room.h"

/*
 * RPCs (research/livekit-api.md §4). Requests: camelCase or snake_case keys, int64/uint32 as
 * numbers or strings, bytes as base64 (standard or URL alphabet), unknown fields ignored; a
 * field of the wrong type is `malformed`. Responses follow sip_json.h's conventions (snake_case,
 * every field present, enums as names, int64 as strings, no null).
 *
 *   CreateRoom          {name, empty_timeout, departure_timeout, max_participants, metadata}
 *                       -> Room. An existing room is updated (non-zero / non-empty fields) and
 *                       returned, as LK does. Other fields (room_preset, egress, agents ...)
 *                       are ignored.
 *   ListRooms           {names[]} -> {rooms[]}, oldest first; unknown names are skipped.
 *   DeleteRoom          {room} -> {}. Every SIP participant's call is hung up (BYE), every
 *                       other participant leaves, the room closes once empty (it is gone from
 *                       ListRooms at once).
 *   ListParticipants    {room} -> {participants[]} (an unknown room: [], as LK).
 *   GetParticipant      {room, identity} -> ParticipantInfo.
 *   RemoveParticipant   {room, identity} -> {}. A SIP participant's call is hung up.
 *   UpdateParticipant   {room, identity, metadata, name, attributes, permission} ->
 *                       ParticipantInfo. Non-empty metadata / name replace; attributes are
 *                       merged, an empty value deletes the key; permission is ignored.
 *   MutePublishedTrack  {room, identity, track_sid, muted} -> {track: TrackInfo}. Mutes (or
 *                       unmutes: remote unmute is always allowed) the participant's audio
 *                       into the room. An empty track_sid means its audio track.
 *   UpdateSubscriptions {room, identity, track_sids[], subscribe, participant_tracks[]} -> {}.
 *                       Which audio the participant hears (everyone by default); unknown
 *                       tracks are ignored, as LK.
 *   SendData            {room, data, kind, destination_identities[], destination_sids[],
 *                       topic, nonce} -> {}: a data message to the room (nonce: empty or
 *                       16 bytes). A DTMF packet instead plays DTMF (RFC 4733, or in-band when
 *                       not negotiated) on the SIP participants' calls, to the destinations
 *                       or to every SIP participant, as LK's SIP bridge does with the
 *                       DataPacket `sip_dtmf` it receives. Two JSON shapes name one:
 *                         - the request carries `sipDtmf` / `sip_dtmf`: SipDTMF {code, digit}
 *                           (a switchboard extension: LK's SendDataRequest has no such field);
 *                         - `data` is the JSON text of a DataPacket whose only member is
 *                           `sipDtmf` / `sip_dtmf` (what an unmodified SDK can send:
 *                           sendData(room, JSON.stringify({sipDtmf:{code:1,digit:"1"}}))).
 *                       digit wins over code (0-9, * = 10, # = 11, A-D = 12-15); digit may
 *                       hold several keys and `w` pauses ("123#").
 *   UpdateRoomMetadata  {room, metadata} -> Room.
 *
 * Errors as LK: not_found "requested room does not exist" (DeleteRoom, SendData,
 * UpdateRoomMetadata), "participant does not exist", "track is not found"; invalid_argument
 * "no room name", "room name length exceeds limits", "metadata size exceeds limits",
 * "attribute size exceeds limits", "nonce should be 16-bytes or not present"; internal for
 * out of memory, unavailable when a media worker's queue is full.
 */

struct api_room_service;

struct api_room_service_opts {
	struct room_service *rooms; /* required; borrowed */
	struct call_mgr *calls;	    /* hangs up SIP participants; NULL = they just leave */
	/* Tests: replace call_mgr_hangup_participant / room_part_send_dtmf (NULL = those). The
	 * hangup hook returns 0 when a call is behind p (it makes p leave), SB_ENOTFOUND when
	 * not (then p is made to leave). */
	int (*hangup)(void *arg, struct room_part *p);
	int (*send_dtmf)(void *arg, struct room_part *p, const char *keys);
	void *hook_arg;
};

/* Register every RPC above with arg = a context allocated here (*out); free it with
 * api_room_service_free after the registry (twirp_free). 0, SB_EINVAL, SB_ENOMEM or
 * twirp_register's first error; after a twirp_register error *out is set all the same (the
 * methods registered before point to it): free it after twirp_free too. */
int api_room_service_register(struct twirp_server *tw, const struct api_room_service_opts *o,
			      struct api_room_service **out);
void api_room_service_free(struct api_room_service *s);

#endif
