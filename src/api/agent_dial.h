/* Dial-out to agents: switchboard opens an agent's WebSocket itself when a call enters its room
 * (a dispatch rule's roomConfig.agents[].agentName, or a dev call to sip:agent-NAME@), as Twilio
 * does for <Connect><Stream>, and bridges it to the call (stream/bridge.h) with the Twilio Media
 * Streams protocol or the native one. Owns the agents' definitions (copied), its libwebsockets
 * client context and every outbound connection.
 *
 *   dispatch -> resolve the URL's host -> WebSocket handshake (the agent's headers) within
 *   connect_timeout -> Twilio: connected/start (customParameters: the built-in ones, then the
 *   agent's); native: start at the agent's rate, its call commands to the call manager
 *   failure or timeout -> on_failure: hang up | echo | play a WAV then hang up
 *   the agent closes -> on_close: hang up | play a WAV then hang up | transfer (agent_close.h);
 *   the call ends -> stop, close
 *   ringback: the caller hears ringback from the dispatch until the agent's first media
 *   say agents (no url): synthesise off the loop (uv_queue_work), play, then hang up or leave;
 *   a dev call to sip:agent-say@ without a declared `say` agent speaks API_AGENT_SAY_DEFAULT
 * Control loop only. */
#ifndef SB_API_AGENT_DIAL_H
#define SB_API_AGENT_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/agent_close.h"
#include "api/agent_ws.h"

#define API_AGENT_CONNECT_TIMEOUT_MS 5000
#define API_AGENT_NAME_MAX	     64
#define API_AGENT_SAY_DEFAULT	     "Hello from switchboard. This is the built in say agent. Goodbye."

struct call_mgr;
struct room_part;

enum api_agent_protocol { API_AGENT_TWILIO, API_AGENT_NATIVE };
enum api_agent_failure {
	API_AGENT_FAIL_HANGUP, /* hang up the call (default) */
	API_AGENT_FAIL_ECHO,   /* the caller hears itself (the dev echo) */
	API_AGENT_FAIL_PLAY,   /* play_file, then hang up */
};

/* A name and a value (a header, a custom parameter). */
struct api_agent_kv {
	char *key, *value;
};

/* One declared agent (`agents:` in switchboard.yaml). Strings are owned by whoever filled it
 * (the config); api_agent_dial_new copies what it keeps. */
struct api_agent_def {
	char *name; /* letters, digits, - _ . */
	char *url;  /* ws://HOST[:PORT][/PATH] or wss:// */
	enum api_agent_protocol protocol;
	uint32_t rate; /* native: the audio's rate both ways (8000 ... 48000); 0 = 16000 */
	struct api_agent_kv *headers; /* sent with the handshake */
	size_t n_headers;
	struct api_agent_kv *params; /* Twilio: start.customParameters after the built-ins */
	size_t n_params;
	uint32_t connect_timeout_ms; /* 0 = API_AGENT_CONNECT_TIMEOUT_MS */
	enum api_agent_failure on_failure;
	char *play_file;		 /* API_AGENT_FAIL_PLAY: a WAV (8, 16, 24 or 48 kHz) */
	bool ringback;			 /* ringback to the caller until the agent's first media */
	struct api_agent_close on_close; /* when the agent closes its socket (default hang up) */
	/* The built-in `say` agent instead of a url: say spoken with espeak-ng (voice, NULL =
	 * "en") on the thread pool, played into the room by a participant of kind agent; then
	 * the call is hung up, or (say_stay) the participant just leaves. */
	char *say;
	char *voice;
	bool say_stay;
};

/* A ws:// or wss:// URL split for the client: 0 or SB_EINVAL (other schemes, user info, no
 * host, a bad port). host has no brackets; path starts with '/' and keeps the query. */
struct api_agent_url {
	bool tls;
	char host[256];
	uint16_t port;
	char path[1024];
};
int api_agent_url_parse(const char *url, struct api_agent_url *out);

struct api_agent_dial_opts {
	uv_loop_t *loop;	/* the control loop */
	struct call_mgr *calls; /* borrowed: close the dialer before the call manager's rooms */
	const struct api_agent_def *agents; /* copied */
	size_t n_agents;
	const char *ca_file; /* for wss:// (NULL = the system bundle) */
	/* Twilio streams are registered there for the REST hang-up and x-transfer (may be NULL;
	 * borrowed, may be freed first: see api_agent_ws_rest_begin) */
	struct api_agent_ws *rest;
};

struct api_agent_dial;

/* 0, SB_EINVAL (a bad URL, an unreadable or unusable play_file or on_close WAV: logged), SB_ENOMEM,
 * SB_EIO. */
int api_agent_dial_new(struct api_agent_dial **out, const struct api_agent_dial_opts *o);
/* The call manager's agent_dispatch hook: dial agent_name for caller, in room. Never calls back
 * into the call manager before it returns; an unknown agent is logged and ignored. */
void api_agent_dial_dispatch(void *arg, const char *room, const char *agent_name,
			     struct room_part *caller);
/* Connections and their calls' fallbacks now (for logs and tests). */
size_t api_agent_dial_active(const struct api_agent_dial *d);
/* Close every connection, then cb once libwebsockets has let go. Call it after the call
 * manager has closed (its rooms are gone then, so no bridge needs the transport). */
void api_agent_dial_close(struct api_agent_dial *d, void (*cb)(void *arg), void *arg);

#endif
