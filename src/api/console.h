/* The web console: GET / (the page, from the files embedded by src/web/), the dev token endpoint
 * GET /api/token and the live event push GET /console/ws (WebSocket). Owns its key copy, the list
 * of console connections and the room observer that feeds them.
 *
 *   GET /api/token?room=ROOM&identity=ID -> {"token": JWT, "url": "ws://HOST:PORT"}
 *       dev mode only (the only key is the built-in devkey/secret, or `dev: true`), else 404:
 *       a token of the first key valid one hour with roomList, roomAdmin, roomCreate and
 *       roomJoin for ROOM ("" = none) and sip admin + call.
 *   ws://HOST:PORT/console/ws?access_token=JWT  (or Authorization: Bearer JWT)
 *       needs roomList and roomAdmin; refused with 1008 "unauthorized: ...". Sends JSON text
 *       messages: first {"type":"snapshot","rooms":[{"room":{..},"participants":[..]}]}, then
 *       room_started, room_finished ({"room":{..}}), participant_joined, participant_left,
 *       participant_updated ({"room":NAME,"participant":{..},"reason":"attributes"|"hold"},
 *       hold adds held and by_remote) and dtmf ({"room","identity","digit","duration_ms"}).
 *       Messages from the browser are ignored. A browser that does not read is closed (1008)
 *       once API_CONSOLE_MAX_QUEUED bytes wait for it; it reconnects for a new snapshot. */
#ifndef SB_API_CONSOLE_H
#define SB_API_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "api/token.h"
#include "call/call.h"
#include "room/room.h"

#define API_CONSOLE_WS		"/console/ws"
#define API_CONSOLE_TOKEN	"/api/token"
#define API_CONSOLE_MAX_QUEUED	(1024u * 1024)
#define API_CONSOLE_TOKEN_TTL_S 3600

struct api_console_opts {
	const struct api_keyring *keys; /* copied */
	bool dev;			/* serve /api/token whatever the keys */
	struct room_service *rooms; /* borrowed (close the HTTP server first); NULL: no events */
	struct call_mgr *calls;	    /* borrowed, for transfer outcomes; NULL: none pushed */
	const char *host;	    /* the API's listen address and port, for /api/token's url */
	uint16_t port;
};

struct api_console;

/* Add the routes to h and observe rooms. 0, SB_ENOMEM, SB_ENORES (route tables or the room
 * observers full). On an error after a route was added *out is set all the same (the server
 * points into it): free it like a registered one. */
int api_console_register(struct api_http *h, const struct api_console_opts *o,
			 struct api_console **out);
/* Dev mode: o->dev, or the keys are exactly the built-in devkey/secret. */
bool api_console_dev_mode(const struct api_console_opts *o);
/* After the HTTP server has closed (every connection is gone then). NULL is fine. */
void api_console_free(struct api_console *c);

#endif
