/* The agents' WebSocket endpoints: GET /twilio (Twilio Media Streams) and GET /agent (the native
 * protocol, docs/agent-protocol.md) bridged to the SIP call of a room (stream/bridge.h); and the
 * Twilio-shaped REST resource of the /twilio streams' calls. Owns the endpoint's key copy, each
 * connection's small record and the last ended calls.
 *
 *   ws://HOST:7880/twilio?room=ROOM&access_token=JWT   (or /twilio/ROOM; or the token as
 *                                                       Authorization: Bearer JWT)
 *   ws://HOST:7880/agent?room=ROOM&rate=16000&access_token=JWT   (same rules; rate 8000, 16000,
 *                                                       24000 or 48000, default 16000; 4400 else)
 *   GET/POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json   HTTP Basic key:secret;
 *       POST Status=completed hangs up the call of the /twilio stream whose callSid it is.
 *       AccountSid is the stream's accountSid or the key. Errors are Twilio's JSON (404 20404).
 * The token is always required (also in dev mode): an HS256 token of a configured key with a
 * `video` grant `roomJoin` for that room (`room` equal to ROOM). Refusals close the socket
 * right after the handshake: 1008 with "unauthorized: ..." (no, bad or insufficient token),
 * 4400 "room required", 4404 "no call in room" (the room has no SIP participant).
 * When the agent closes its socket the call is hung up, or gets on_close's announcement or
 * transfer (api/agent_close.h). */
#ifndef SB_API_AGENT_WS_H
#define SB_API_AGENT_WS_H

#include "api/agent_close.h"
#include "api/http.h"
#include "api/token.h"
#include "call/call.h"

#define API_AGENT_WS_TWILIO    "/twilio"
#define API_AGENT_WS_NATIVE    "/agent"
#define API_TWILIO_REST_PREFIX "/2010-04-01/Accounts/"

struct api_agent_ws_opts {
	const struct api_keyring *keys; /* copied */
	struct call_mgr *calls;		/* borrowed: the HTTP server closes first */
	/* When an agent closes its socket (`agent_close:`): NULL = hang up. Prepared (its WAV
	 * loaded) by register: SB_EINVAL when that WAV is unusable. */
	const struct api_agent_close *on_close;
};

struct api_agent_ws;

/* Add the routes to h. 0, SB_ENOMEM, api_http_ws_route's errors. */
int api_agent_ws_register(struct api_http *h, const struct api_agent_ws_opts *o,
			  struct api_agent_ws **out);
/* Twilio streams opened elsewhere (agents dialled out, agent_dial.h) are reachable by the REST
 * resource (hang-up by CallSid, GET) and get x-transfer too: rest_begin once the bridge has
 * started, rest_end when its transport is gone (also after api_agent_ws_free, which detaches
 * them). NULL when a is NULL or out of memory. */
struct api_agent_rest;
struct stream_bridge;
struct api_agent_rest *api_agent_ws_rest_begin(struct api_agent_ws *a, struct stream_bridge *b,
					       struct room_part *caller, bool outbound);
void api_agent_ws_rest_end(struct api_agent_rest *r);

/* After the HTTP server has closed (every connection is gone then). NULL is fine. */
void api_agent_ws_free(struct api_agent_ws *a);

#endif
