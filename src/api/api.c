/* The API server: owns the HTTP server and the Twirp registry, routes /healthz, /metrics and
 * /twirp/, and closes them in order (connections first, then the registry their requests use). */
#include "api/api.h"

#include <stdlib.h>

#include "api/agent_ws.h"
#include "api/calls_service.h"
#include "api/console.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/room_service.h"
#include "api/sip_call_service.h"
#include "api/sip_service.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

struct api_server {
	struct api_http *http;
	struct twirp_server *twirp;
	struct api_room_service *rooms;
	struct api_calls_service *calls;
	struct sip_call_service *sip_calls; /* CreateSIPParticipant, TransferSIPParticipant */
	struct api_agent_ws *agents;	    /* GET /twilio (WebSocket) */
	struct api_console *console;	    /* GET /, /api/token, /console/ws (console.h) */
	/* /metrics sources, borrowed */
	struct call_mgr *call_mgr;
	struct sip_ua *ua;
	struct api_webhook *webhooks;
	const char *version;
	uint64_t started_ms;
	void (*close_cb)(void *arg);
	void *close_arg;
};

static void healthz(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	api_http_resp_set(resp, 200, "text/plain", "ok");
}

/* GET /metrics: one snapshot of every module's getter, rendered as Prometheus text. */
static void metrics(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	struct api_server *s = arg;
	struct api_metrics_snapshot *snap = calloc(1, sizeof(*snap)); /* ~10 kB of SIP counters */
	if (!snap) {
		api_http_resp_set(resp, 503, "text/plain", "out of memory\n");
		return;
	}
	snap->version = s->version;
	snap->uptime_s = (double)(sb_clock_ms() - s->started_ms) / 1000.0;
	if (s->call_mgr) {
		call_mgr_metrics(s->call_mgr, &snap->calls);
		room_service_counts(call_mgr_rooms(s->call_mgr), &snap->rooms);
	}
	if (s->ua)
		sip_ua_counters(s->ua, &snap->sip);
	if (s->webhooks)
		api_webhook_stats(s->webhooks, &snap->webhooks);
	resp->status = 200;
	resp->content_type = API_METRICS_CONTENT_TYPE;
	sb_buf_reset(&resp->body);
	api_metrics_render(&resp->body, snap);
	free(snap);
}

static void parts_free(struct api_server *s)
{
	twirp_free(s->twirp);
	api_room_service_free(s->rooms);
	api_calls_service_free(s->calls);
	sip_call_service_free(s->sip_calls);
	api_agent_ws_free(s->agents);
	api_console_free(s->console);
	free(s);
}

int api_server_new(struct api_server **out, const struct api_server_opts *o)
{
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->call_mgr = o->calls;
	s->ua = o->ua;
	s->version = o->version ? o->version : "";
	s->started_ms = sb_clock_ms();
	struct twirp_opts to = {.keys = o->keys};
	int err = twirp_new(&s->twirp, &to);
	if (err) {
		free(s);
		return err;
	}
	if (o->store && (err = sip_service_register(s->twirp, o->store))) {
		SB_ERROR("api", "cannot register the livekit.SIP methods: %s", sb_strerror(err));
		parts_free(s);
		return err;
	}
	if (o->calls) {
		struct api_room_service_opts ro = {.rooms = call_mgr_rooms(o->calls),
						   .calls = o->calls};
		if ((err = api_room_service_register(s->twirp, &ro, &s->rooms))) {
			SB_ERROR("api", "cannot register the livekit.RoomService methods: %s",
				 sb_strerror(err));
			parts_free(s);
			return err;
		}
		/* switchboard.Calls: hold, resume, DTMF and call stats (calls_service.h) */
		struct api_calls_service_opts co = {.rooms = call_mgr_rooms(o->calls),
						    .calls = o->calls};
		if ((err = api_calls_service_register(s->twirp, &co, &s->calls))) {
			SB_ERROR("api", "cannot register the switchboard.Calls methods: %s",
				 sb_strerror(err));
			parts_free(s);
			return err;
		}
		/* livekit.SIP's calls: outbound calls and transfers (sip_call_service.h) */
		if ((err =
			 sip_call_service_register(s->twirp, o->store, o->calls, &s->sip_calls))) {
			SB_ERROR("api", "cannot register the livekit.SIP call methods: %s",
				 sb_strerror(err));
			parts_free(s);
			return err;
		}
	}
	struct api_http_opts ho = {
	    .loop = o->loop, .host = o->host, .port = o->port, .max_body = o->max_body};
	err = api_http_new(&s->http, &ho);
	if (err) {
		parts_free(s);
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
	if (!o->no_metrics) {
		struct api_http_route mr = {
		    .method = "GET", .path = "/metrics", .fn = metrics, .arg = s};
		api_http_route(s->http, &mr);
	}
	if (o->calls) {
		/* agents: GET /twilio (Twilio Media Streams over WebSocket, agent_ws.h) */
		struct api_agent_ws_opts ao = {
		    .keys = o->keys, .calls = o->calls, .on_close = o->agent_close};
		if ((err = api_agent_ws_register(s->http, &ao, &s->agents)))
			SB_ERROR("api", "no /twilio endpoint: %s", sb_strerror(err));
	}
	/* the web console: the page, the dev token endpoint, the event push (console.h) */
	struct api_console_opts cso = {.keys = o->keys,
				       .rooms = o->calls ? call_mgr_rooms(o->calls) : NULL,
				       .calls = o->calls,
				       .dev = o->dev,
				       .host = o->host,
				       .port = api_http_port(s->http)};
	if ((err = api_console_register(s->http, &cso, &s->console)))
		SB_ERROR("api", "web console incomplete: %s", sb_strerror(err));
	SB_INFO("api", "HTTP API on %s:%u", o->host, api_http_port(s->http));
	*out = s;
	return 0;
}

uint16_t api_server_port(const struct api_server *s)
{
	return api_http_port(s->http);
}

void api_server_set_webhooks(struct api_server *s, struct api_webhook *w)
{
	s->webhooks = w;
}

struct api_agent_ws *api_server_agent_ws(struct api_server *s)
{
	return s ? s->agents : NULL;
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
	parts_free(s);
	if (cb)
		cb(cb_arg);
}

void api_server_close(struct api_server *s, void (*cb)(void *arg), void *arg)
{
	s->close_cb = cb;
	s->close_arg = arg;
	api_http_close(s->http, http_closed, s);
}
