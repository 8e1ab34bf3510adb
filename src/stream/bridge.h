/* One agent bridged to the SIP call of a room: a stream participant (kind agent) in the room and
 * a session over it speaking the Twilio Media Streams protocol (stream_twilio, 8 kHz) or the
 * native one (stream_native, at the agent's rate). Owns the session and the participant handle;
 * the transport (a WebSocket) is the caller's, reached through handlers. Control loop only.
 *
 *   caller's audio: the participant's mix-minus comes up every worker tick -> `media`
 *                   (native: a binary frame; silence when nothing is heard; Twilio fills
 *                   gaps from the worker's clock)
 *   agent's audio:  `media` (native: binary frames too) -> playout queue; each tick that
 *                   comes up refills the participant's FIFO to STREAM_BRIDGE_FIFO frames, so
 *                   the worker's tick paces the playout; a mark is echoed once the tick has
 *                   taken the frame with the last byte before it (the frame the caller is
 *                   being sent), or at once on an empty queue and on clear (the FIFO's frames
 *                   still play)
 *   caller's keys:  `dtmf`; hold/resume of the call: `x-hold` / `x-resume` (native: `hold` /
 *                   `resume`; also `call_state` from sip.callStatus, looked at every tick by
 *                   version, and `participant_joined` / `participant_left` of the room)
 *   native commands: mute by the bridge; hangup, transfer, hold, resume, send_dtmf through
 *                   handlers.command (the owner calls the call manager: stream/ never does)
 *   call ended:     `stop`, the transport closed, the participant leaves
 *   transport gone: the call is hung up (handler), the participant leaves */
#ifndef SB_STREAM_BRIDGE_H
#define SB_STREAM_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "room/room.h"
#include "stream/native.h"
#include "stream/twilio.h"

#define STREAM_BRIDGE_FIFO 2 /* frames kept ahead in the participant's FIFO */

struct stream_bridge_handlers {
	/* One text frame; droppable for media (a transport that cannot keep up drops those).
	 * 0 or an error (the message is lost). */
	int (*send)(void *arg, const char *text, size_t len, bool droppable);
	/* Close the transport (after stop, or when the bridge cannot go on). Called once; the
	 * owner still calls stream_bridge_transport_closed when it is gone. */
	void (*close)(void *arg);
	/* End the call behind the caller's participant (BYE). */
	void (*hangup)(void *arg, struct room_part *caller);
	/* Optional (NULL = none): the agent's first accepted media, once (ringback stops). */
	void (*first_media)(void *arg);
	/* Native only: the agent's call commands (hangup, transfer, hold, resume, send_dtmf; mute
	 * is done by the bridge). 0 = accepted, or an error the agent gets as an error event. A
	 * transfer's outcome comes back through stream_bridge_transfer_result. NULL = unsupported.
	 */
	int (*command)(void *arg, struct room_part *caller, const struct stream_native_cmd *c);
	/* Native only (required for it): one binary frame (audio, droppable). */
	int (*send_binary)(void *arg, const void *p, size_t len, bool droppable);
};

enum stream_protocol {
	STREAM_PROTO_TWILIO = 0, /* the default */
	STREAM_PROTO_NATIVE,
};

struct stream_bridge_opts {
	struct room_service *rs;
	const char *room;
	/* The call's direction: inbound calls stream from = the caller, to = the called number;
	 * outbound ones the other way round (sip.phoneNumber is then the callee). */
	bool outbound;
	/* customParameters after the built-in ones (copied), and SIDs (NULL = random) */
	const struct stream_twilio_param *params;
	size_t n_params;
	const char *account_sid, *call_sid, *stream_sid;
	struct stream_playout_opts playout;
	/* The call's participant in room; NULL = stream_bridge_find_caller (the oldest call). */
	struct room_part *caller;
	/* The protocol (0 = Twilio; params and SIDs are Twilio's) and, native, the rate of the
	 * agent's audio both ways: 8000, 16000, 24000 or 48000 (0 = 16000). */
	enum stream_protocol protocol;
	uint32_t rate;
};

struct stream_bridge;

/* The room's caller: its oldest SIP participant that is not leaving, or NULL. */
struct room_part *stream_bridge_find_caller(struct room_service *rs, const char *room);

/* Join the room and send connected and start. 0; SB_ENOTFOUND (no room, or no SIP participant
 * in it); SB_EINVAL; SB_ENOMEM; room_join's errors. Nothing is sent on error. */
int stream_bridge_new(struct stream_bridge **out, const struct stream_bridge_opts *o,
		      const struct stream_bridge_handlers *h, void *arg);
/* One text message from the agent (never a reason to close). */
void stream_bridge_input(struct stream_bridge *b, const char *text, size_t len);
/* One binary message (native: audio; Twilio: ignored). */
void stream_bridge_input_binary(struct stream_bridge *b, const uint8_t *p, size_t len);
/* The outcome of a transfer the command handler started: sip_status 200 = succeeded, else failed
 * (0 = no final answer). id is the command's id (may be NULL). Native: a transfer event; Twilio:
 * x-transfer. Ignored once the transport is gone. */
void stream_bridge_transfer_result(struct stream_bridge *b, const char *id, const char *to,
				   int sip_status, const char *reason);
/* The transport is gone: no handler is called after this but hangup; b is freed once its
 * participant has left the room. */
void stream_bridge_transport_closed(struct stream_bridge *b);

enum stream_protocol stream_bridge_protocol(const struct stream_bridge *b);
struct stream_twilio *stream_bridge_session(struct stream_bridge *b); /* NULL if native */
struct stream_native *stream_bridge_native(struct stream_bridge *b);  /* NULL if Twilio */
struct room_part *stream_bridge_part(struct stream_bridge *b);	      /* NULL once left */
struct room_part *stream_bridge_caller(struct stream_bridge *b);      /* NULL once gone */

#endif
