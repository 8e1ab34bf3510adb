/* The API server as the app wires it: the HTTP server, /healthz, /metrics (Prometheus, from the
 * modules' read-only getters) and the Twirp registry on /twirp/ with the services it has
 * (livekit.SIP trunks and rules when given a store, livekit.RoomService and switchboard.Calls
 * when given the call manager). /healthz and /metrics need no token. */
#ifndef SB_API_API_H
#define SB_API_API_H

#include <stdint.h>
#include <uv.h>

#include "api/token.h"
#include "api/twirp.h"
#include "api/webhook.h"
#include "call/call.h"
#include "store/store.h"

struct api_agent_close;

struct api_server_opts {
	uv_loop_t *loop;		/* the control loop */
	const char *host;		/* listen address */
	uint16_t port;			/* 0 = any free port */
	const struct api_keyring *keys; /* copied */
	size_t max_body;		/* 0 = API_HTTP_MAX_BODY */
	/* livekit.SIP trunks and dispatch rules are served from it (NULL: not served);
	 * borrowed: close the server before the store */
	struct store *store;
	/* livekit.RoomService over its rooms (SIP participants hung up through it); NULL: not
	 * served; borrowed: close the server before the call manager */
	struct call_mgr *calls;
	/* /metrics: the SIP stack's counters (NULL: zeros); borrowed like calls */
	struct sip_ua *ua;
	const char *version; /* switchboard_build_info{version}; static */
	bool no_metrics;     /* do not serve GET /metrics (404) */
	bool dev; /* the web console's dev token endpoint whatever the keys (console.h) */
	/* `agent_close:` for /twilio and /agent (agent_ws.h; NULL = hang up); copied */
	const struct api_agent_close *agent_close;
};

struct api_server;

/* 0 or a negative code (logged). */
int api_server_new(struct api_server **out, const struct api_server_opts *o);
uint16_t api_server_port(const struct api_server *s);
/* Webhook counters for /metrics (the notifier starts after the server); borrowed: close the
 * server before the notifier. NULL: zeros. */
void api_server_set_webhooks(struct api_server *s, struct api_webhook *w);
/* The agents' WebSocket endpoints (GET /twilio, /agent), where agents dialled out register
 * their Twilio streams for the REST hang-up; NULL without a call manager. */
struct api_agent_ws *api_server_agent_ws(struct api_server *s);
/* The registry where services add their methods. */
struct twirp_server *api_server_twirp(struct api_server *s);
/* Stop serving; cb(arg) runs once every connection is closed and s is freed. */
void api_server_close(struct api_server *s, void (*cb)(void *arg), void *arg);

#endif
