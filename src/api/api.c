/* The API server: owns the HTTP server and the Twirp registry, routes /healthz and /twirp/,
 * and closes them in order (connections first, then the registry their requests use). */
#include "api/api.h"

#include <stdlib.h>

#include "api/calls_service.h"
#include "api/http.h"
#include "api/room_service.h"
#include "api/sip_service.h"
#include "base/err.h"
#include "base/log.h"

struct api_server {
	struct api_http *http;
	struct twirp_server *twirp;
	struct api_room_service *rooms;
	struct api_calls_service *calls;
	void (*close_cb)(void *arg);
	void *close_arg;
};

static void healthz(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	api_http_resp_set(resp, 200, "text/plain", "ok");
}

int api_server_new(struct api_server **out, const struct api_server_opts *o)
{
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	struct twirp_opts to = {.keys = o->keys};
	int err = twirp_new(&s->twirp, &to);
	if (err) {
		free(s);
		return err;
	}
	if (o->store && (err = sip_service_register(s->twirp, o->store))) {
		SB_ERROR("api", "cannot register the livekit.SIP methods: %s", sb_strerror(err));
		twirp_free(s->twirp);
		api_room_service_free(s->rooms);
		api_calls_service_free(s->calls);
		free(s);
		return err;
	}
	if (o->calls) {
		struct api_room_service_opts ro = {.rooms = call_mgr_rooms(o->calls),
						   .calls = o->calls};
		if ((err = api_room_service_register(s->twirp, &ro, &s->rooms))) {
			SB_ERROR("api", "cannot register the livekit.RoomService methods: %s",
				 sb_strerror(err));
			twirp_free(s->twirp);
			api_room_service_free(s->rooms);
			api_calls_service_free(s->calls);
			free(s);
			return err;
		}
		/* switchboard.Calls: hold, resume, DTMF and call stats (calls_service.h) */
		struct api_calls_service_opts co = {.rooms = call_mgr_rooms(o->calls),
						    .calls = o->calls};
		if ((err = api_calls_service_register(s->twirp, &co, &s->calls))) {
			SB_ERROR("api", "cannot register the switchboard.Calls methods: %s",
				 sb_strerror(err));
			twirp_free(s->twirp);
			api_room_service_free(s->rooms);
			api_calls_service_free(s->calls);
			free(s);
			return err;
		}
	}
	struct api_http_opts ho = {
	    .loop = o->loop, .host = o->host, .port = o->port, .max_body = o->max_body};
	err = api_http_new(&s->http, &ho);
	if (err) {
		twirp_free(s->twirp);
		api_room_service_free(s->rooms);
		api_calls_service_free(s->calls);
		free(s);
		return err;
	}
	struct api_http_route routes[] = {
	    {.method = "GET", .path = "/healthz", .fn = healthz},
	    {.path = TWIRP_PREFIX, .prefix = true, .fn = twirp_serve, .arg = s->twirp},
	    /* LiveKit strips a leading "//" (some clients join host and path with two) */
	    {.path = "/" TWIRP_PREFIX, .prefix = true, .fn = twirp_serve, .arg = s->twirp},
	};
	for (size_t i = 0; i < SB_ARRAY_LEN(routes); i++)
		api_http_route(s->http, &routes[i]);
	SB_INFO("api", "HTTP API on %s:%u", o->host, api_http_port(s->http));
	*out = s;
	return 0;
}

uint16_t api_server_port(const struct api_server *s)
{
	return api_http_port(s->http);
}

struct twirp_server *api_server_twirp(struct api_server *s)
{
	return s->twirp;
}

static void http_closed(void *arg)
{
	struct api_server *s = arg;
	void (*cb)(void *) = s->close_cb;
	void *cb_arg = s->close_arg;
	twirp_free(s->twirp);
	api_room_service_free(s->rooms);
	api_calls_service_free(s->calls);
	free(s);
	if (cb)
		cb(cb_arg);
}

void api_server_close(struct api_server *s, void (*cb)(void *arg), void *arg)
{
	s->close_cb = cb;
	s->close_arg = arg;
	api_http_close(s->http, http_closed, s);
}
