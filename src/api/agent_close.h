/* What happens to a call when its agent's WebSocket closes (`agent_close:` for the agents that
 * connect in, `agents: {NAME: {on_close}}` for dialled ones), and the announcer that plays a WAV
 * to a call (then hangs up or just leaves) that it and the fallbacks use. Owns the prepared WAV
 * of a plan and each running announcement or transfer. Control loop only.
 *
 *   hangup            BYE (the default)
 *   {play: FILE.wav}  a participant (kind agent) plays the WAV into the caller's room, then BYE
 *   {transfer: URI}   REFER the caller to URI (call_mgr_transfer_participant); BYE when the
 *                     transfer fails (the call manager hangs up after a successful one) */
#ifndef SB_API_AGENT_CLOSE_H
#define SB_API_AGENT_CLOSE_H

#include <stdbool.h>

#include "media/wav.h"

struct call_mgr;
struct room_part;

enum api_agent_close_kind {
	API_AGENT_CLOSE_HANGUP = 0,
	API_AGENT_CLOSE_PLAY,
	API_AGENT_CLOSE_TRANSFER,
};

/* As configured (strings owned by whoever filled it: the config). */
struct api_agent_close {
	enum api_agent_close_kind kind;
	char *file;   /* PLAY: a WAV, 8, 16, 24 or 48 kHz mono 16-bit */
	char *target; /* TRANSFER: sip:, sips: or tel: */
};

/* Ready to run: the WAV loaded, the target copied. */
struct api_agent_close_plan {
	enum api_agent_close_kind kind;
	struct media_wav wav;
	char *target;
};

/* Check a WAV for an announcement: 0 or SB_EINVAL (unreadable, empty, another rate; why gets
 * the reason). */
int api_agent_close_check_wav(const struct media_wav *w, const char **why);
/* def NULL = hangup. 0, SB_EINVAL (the WAV: logged with who), SB_ENOMEM. */
int api_agent_close_prepare(struct api_agent_close_plan *out, const struct api_agent_close *def,
			    const char *who);
void api_agent_close_plan_free(struct api_agent_close_plan *p);
/* The agent of caller's call has closed its socket: do what p says (NULL = hang up). */
void api_agent_close_run(const struct api_agent_close_plan *p, struct call_mgr *calls,
			 struct room_part *caller, const char *agent);

/* Play wav (copied) to the room of caller through a participant of kind agent called name
 * (attribute agent.name = agent), then hang the call up (hangup) or just leave. The announcer
 * leaves early when the caller does. 0, or SB_ENOMEM / room_join's errors (nothing started). */
int api_agent_announce(struct call_mgr *calls, struct room_part *caller,
		       const struct media_wav *wav, bool hangup, const char *name,
		       const char *agent);

#endif
