/* One session of switchboard's native agent protocol as a pure state machine: builds the events
 * (JSON text frames) and the caller's audio (binary PCM16LE frames), parses the agent's commands,
 * owns the playout queue toward the caller. No sockets, no clock. docs/agent-protocol.md and
 * docs/agent-protocol.schema.json are the contract; in short:
 *
 * Sent: every JSON message has "type". start (stream, room, agent and call attributes, media
 * format) first; then binary frames of rate/50 samples every 20 ms (silence on hold); dtmf, hold,
 * resume, call_state, participant_joined, participant_left, transfer, mark, error, stop.
 * Accepted: binary frames (PCM16LE at the rate, any size) and JSON media (base64), mark, clear,
 * hangup, transfer, hold, resume, send_dtmf, mute, and hello/config (which may only confirm the
 * rate chosen at connect time). A bad command gets an error event (with the
 * command's "id" when it had one), never a closed socket. Call commands go to the command
 * handler; the session only parses them. */
#ifndef SB_STREAM_NATIVE_H
#define SB_STREAM_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "stream/playout.h"

#define STREAM_NATIVE_PROTOCOL	"switchboard.agent"
#define STREAM_NATIVE_VERSION	1
#define STREAM_NATIVE_RATE	16000u	       /* default */
#define STREAM_NATIVE_MAX_FRAME (48000u / 50u) /* samples per 20 ms at the highest rate */
#define STREAM_NATIVE_ID_LEN	34u	       /* "ST" + 32 lowercase hex */
#define STREAM_NATIVE_CMD_ID	128u	       /* longest command id echoed back, in bytes */

/* A random stream id ("ST" + 32 hex) into out. 0 or the random source's error. */
int stream_native_new_id(char out[STREAM_NATIVE_ID_LEN + 1]);

/* The rates an agent may ask for. */
bool stream_native_rate_valid(uint32_t rate);

struct stream_native_attr {
	const char *key, *value;
};

struct stream_native_opts {
	uint32_t rate;		 /* 8000, 16000, 24000, 48000; 0 = STREAM_NATIVE_RATE */
	const char *stream_id;	 /* "ST" + 32 hex; NULL = random */
	const char *room;	 /* start.room */
	const char *participant; /* the agent's own identity */
	/* the call: its SIP participant; NULL / 0 = left out */
	const char *caller;
	const char *call_id;	 /* switchboard's call id (sip.callID) */
	const char *sip_call_id; /* the SIP Call-ID */
	const char *from_number, *to_number;
	bool outbound;
	const char *call_status;		/* sip.callStatus at start */
	const struct stream_native_attr *attrs; /* the caller's attributes (sip.* are sent) */
	size_t n_attrs;
	struct stream_playout_opts playout; /* pcm16 and rate are set by the session */
};

enum stream_native_cmd_type {
	STREAM_NATIVE_CMD_HANGUP,
	STREAM_NATIVE_CMD_TRANSFER,
	STREAM_NATIVE_CMD_HOLD,
	STREAM_NATIVE_CMD_RESUME,
	STREAM_NATIVE_CMD_SEND_DTMF,
	STREAM_NATIVE_CMD_MUTE,
};

/* A call command, valid during the handler's call. */
struct stream_native_cmd {
	enum stream_native_cmd_type type;
	const char *name;   /* "hangup", "transfer" ... as sent */
	const char *id;	    /* the agent's "id", NULL when none */
	const char *to;	    /* TRANSFER: sip:, sips: or tel: URI (cold) */
	const char *with;   /* TRANSFER attended: the identity of the other call's participant */
	bool attended;	    /* TRANSFER: REFER with Replaces to the far end of `with`'s call */
	const char *digits; /* SEND_DTMF: 0-9 * # A-D, w (500 ms pause) */
	bool muted;	    /* MUTE */
};

struct stream_native_handlers {
	/* One message: a text frame (JSON) or a binary frame (audio, droppable). 0, or an error:
	 * the message is lost and counted. */
	int (*send)(void *arg, bool binary, const void *p, size_t len);
	/* A call command the session parsed. 0 = accepted (its outcome comes as events), or an
	 * error code the session reports to the agent as an error event. NULL = every call command
	 * is answered "unsupported". */
	int (*command)(void *arg, const struct stream_native_cmd *c);
};

struct stream_native_stats {
	uint64_t in_msgs;     /* text messages given to stream_native_input */
	uint64_t in_binary;   /* binary frames */
	uint64_t in_media;    /* media accepted (binary or JSON) */
	uint64_t in_marks;    /* marks accepted */
	uint64_t in_clears;   /* clears done */
	uint64_t in_commands; /* call commands handed to the command handler and accepted */
	uint64_t in_errors;   /* commands answered with an error event */
	uint64_t out_msgs;    /* text messages sent */
	uint64_t out_media;   /* audio frames sent */
	uint64_t out_silence; /* of which silence */
	uint64_t out_marks;   /* mark echoes sent */
	uint64_t out_errors;  /* send failures (message lost) */
};

struct stream_native;

/* 0, SB_EINVAL (bad rate or stream id) or SB_ENOMEM. h->send is required. */
int stream_native_new(struct stream_native **out, const struct stream_native_opts *o,
		      const struct stream_native_handlers *h, void *arg);
void stream_native_free(struct stream_native *n);

/* Send start; now is the stream's time zero. 0, SB_ESTATE (twice), SB_ENOMEM or the send error. */
int stream_native_start(struct stream_native *n, sb_time_ms now);
/* One 20 ms frame of the caller's audio (rate/50 samples), or NULL for silence; silence also
 * while held. */
int stream_native_media(struct stream_native *n, const int16_t *pcm);
int stream_native_dtmf(struct stream_native *n, char digit, uint32_t duration_ms);
/* hold / resume (remote: the caller's side; direction may be NULL); SB_ESTATE when already so. */
int stream_native_hold(struct stream_native *n, sb_time_ms now, bool held, bool remote,
		       const char *direction);
bool stream_native_held(const struct stream_native *n);
/* call_state with sip.callStatus; sent only when it differs from the last one sent. */
int stream_native_call_state(struct stream_native *n, const char *status);
/* participant_joined / participant_left of another participant of the room. */
int stream_native_participant(struct stream_native *n, bool joined, const char *identity,
			      const char *kind);

struct stream_native_transfer {
	const char *id;	    /* the transfer command's id, NULL = left out */
	const char *to;	    /* target URI, NULL = left out */
	const char *status; /* "started", "succeeded", "failed" */
	int sip_status;	    /* final SIP status; 0 = left out */
	const char *sip_reason;
};
int stream_native_transfer(struct stream_native *n, const struct stream_native_transfer *t);
/* An error event: code (see stream_native_err_code), message, and the command it answers. */
int stream_native_error(struct stream_native *n, const char *code, const char *message,
			const char *command, const char *id);
/* The error event code for an SB_* error: "invalid", "unsupported", "busy", "not_found",
 * "state", "no_resources", "failed". */
const char *stream_native_err_code(int err);
/* stop with a reason ("call_ended", "removed", ...); the session is over afterwards. */
int stream_native_stop(struct stream_native *n, const char *reason);

/* One text message from the agent: acted on, or answered with an error event. 0 when acted on,
 * else the reason (SB_EMALFORMED, SB_EUNSUPPORTED, SB_EINVAL, SB_ESTATE, the handler's). */
int stream_native_input(struct stream_native *n, const char *text, size_t len);
/* One binary frame: PCM16LE audio at the session's rate, appended to the playout queue. */
int stream_native_input_binary(struct stream_native *n, const uint8_t *p, size_t len);

/* Echo up to max of the marks the playout has passed, oldest first; how many were popped. */
size_t stream_native_echo_marks(struct stream_native *n, size_t max);

uint32_t stream_native_rate(const struct stream_native *n);
size_t stream_native_frame(const struct stream_native *n); /* samples per 20 ms */
const char *stream_native_stream_id(const struct stream_native *n);
struct stream_playout *stream_native_playout(struct stream_native *n);
const struct stream_native_stats *stream_native_stats(const struct stream_native *n);

#endif
