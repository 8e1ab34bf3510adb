/* switchboard's entry point: command line, configuration, wiring of the modules, signals.
 * The only place that holds process state; `serve` runs the gateway, `dial` places one call. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "api/agent_dial.h"
#include "api/api.h"
#include "api/webhook.h"
#include "app/config.h"
#include "app/declared.h"
#include "app/events.h"
#include "app/token_cmd.h"
#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "call/call.h"
#include "cli/cli.h"
#include "media/resample.h"
#include "media/tts.h"
#include "media/worker.h"
#include "room/room.h"
#include "rtp/pool.h"
#include "rtp/sock.h"
#include "sip/reg.h"
#include "sip/transport.h"
#include "sip/ua.h"
#include "store/store.h"

struct app {
	struct sb_config cfg;
	uv_loop_t *loop;
	struct sip_ua *ua;
	struct rtp_pool pool;
	struct media_engine *media;
	struct call_mgr *calls;
	struct api_server *api;
	struct api_webhook *webhooks;  /* NULL without webhook URLs */
	struct api_agent_dial *agents; /* serve: agents dialled out (agents:) */
	struct store *store;
	uv_signal_t sigterm, sigint;
	int exit_code;
	bool stopping;
	/* dial mode */
	struct sip_call *out_call;
	struct media_wav say;	      /* dial --say: the speech, synthesised before dialing */
	char say_room[ROOM_NAME_MAX]; /* the room it is played into */
	uv_timer_t dial_timer;	      /* ring timeout, then call duration */
	uv_timer_t step_timer;	      /* hold/resume steps */
	bool answered;
	int final_status;
	int refer_status;
	size_t dtmf_next;
	bool timers_ready;
	struct sip_reg *registration;
	struct sip_reg *trunk_regs[SB_CONFIG_MAX_HOLD_TRUNKS]; /* `registrations:` */
};

static void on_call_media(struct sip_call *c, const struct sip_media_state *m, void *arg)
{
	(void)c;
	(void)arg;
	SB_INFO("app", "media: %s pt %u to %s:%u (remote %s, local %s)",
		sdp_codec_info(m->codec) ? sdp_codec_info(m->codec)->name : "?", m->pt,
		m->remote_addr, m->remote_port, sdp_dir_name(m->remote_dir),
		sdp_dir_name(m->local_dir));
}

static void on_call_hold(struct sip_call *c, bool held, enum sdp_dir dir, void *arg)
{
	(void)c;
	(void)arg;
	SB_INFO("app", "call %s by remote (%s)", held ? "held" : "resumed", sdp_dir_name(dir));
}

static void on_call_dtmf(struct sip_call *c, char digit, uint32_t ms, void *arg)
{
	(void)c;
	(void)arg;
	SB_INFO("app", "DTMF digit %c (%u ms)", digit, ms);
}

static void on_incoming(struct sip_ua *ua, struct sip_call *c, const struct sip_incoming *in,
			void *arg)
{
	(void)ua;
	struct app *app = arg;
	call_mgr_incoming(app->calls, c, in);
}

static const struct sip_ua_handlers ua_handlers = {.incoming = on_incoming};

/* ---- lifecycle ---- */

static void media_closed(void *arg)
{
	struct app *app = arg;
	app->media = NULL;
}

static void webhooks_closed(void *arg)
{
	struct app *app = arg;
	app->webhooks = NULL;
}

/* Rooms post webhooks until the call manager (their owner) has closed: only then. */
static void close_webhooks(struct app *app)
{
	if (app->webhooks)
		api_webhook_close(app->webhooks, webhooks_closed, app);
}

static void agents_closed(void *arg)
{
	struct app *app = arg;
	app->agents = NULL;
}

/* The agents' connections go once the rooms (the bridges' participants) are gone. */
static void close_agents(struct app *app)
{
	if (app->agents)
		api_agent_dial_close(app->agents, agents_closed, app);
}

static void calls_closed(void *arg)
{
	struct app *app = arg;
	app->calls = NULL;
	close_agents(app);
	close_webhooks(app);
	if (app->media)
		media_engine_close(app->media, media_closed, app);
}

static void ua_closed(void *arg)
{
	struct app *app = arg;
	app->ua = NULL;
	if (app->calls) {
		call_mgr_close(app->calls, calls_closed, app);
	} else {
		close_agents(app);
		close_webhooks(app);
		if (app->media)
			media_engine_close(app->media, media_closed, app);
	}
	uv_close((uv_handle_t *)&app->sigterm, NULL);
	uv_close((uv_handle_t *)&app->sigint, NULL);
	if (app->timers_ready) {
		uv_close((uv_handle_t *)&app->dial_timer, NULL);
		uv_close((uv_handle_t *)&app->step_timer, NULL);
	}
}

static void store_closed(void *arg)
{
	struct app *app = arg;
	app->store = NULL;
}

/* The store closes after the API: its handlers write to the store until then. */
static void api_closed(void *arg)
{
	struct app *app = arg;
	app->api = NULL;
	if (app->store)
		store_close(app->store, store_closed, app);
}

static void app_stop(struct app *app)
{
	if (app->stopping)
		return;
	app->stopping = true;
	if (app->api)
		api_server_close(app->api, api_closed, app);
	else if (app->store)
		store_close(app->store, store_closed, app);
	if (app->registration) {
		sip_reg_free(app->registration);
		app->registration = NULL;
	}
	for (size_t i = 0; i < SB_CONFIG_MAX_HOLD_TRUNKS; i++) {
		sip_reg_free(app->trunk_regs[i]);
		app->trunk_regs[i] = NULL;
	}
	SB_INFO("app", "shutting down: ending %zu calls", sip_ua_call_count(app->ua));
	sip_ua_shutdown(app->ua, ua_closed, app);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	app_stop(s->data);
}

static int parse_hostport(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return SB_EINVAL;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= cap)
		return SB_EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 0 || p > 65535)
		return SB_EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int serve_auth_lookup(struct sb_slice user, char *password, size_t cap, void *arg)
{
	struct app *app = arg;
	if (!sb_slice_eq_cstr(user, app->cfg.dial_user))
		return SB_ENOTFOUND;
	snprintf(password, cap, "%s", app->cfg.dial_password);
	return 0;
}

static void reg_state(void *arg, int status, uint32_t expires)
{
	(void)arg;
	SB_INFO("app", "registration: %d (expires %u s)", status, expires);
}

static void trunk_reg_state(void *arg, int status, uint32_t expires)
{
	SB_INFO("app", "registration of trunk %s: %d (expires %u s)", (const char *)arg, status,
		expires);
}

/* `registrations:`: each outbound trunk registers sip:<auth user or first number>@<address>
 * with the trunk's credentials and transport. */
static int start_trunk_registrations(struct app *app)
{
	for (size_t i = 0; i < app->cfg.n_registrations; i++) {
		const char *id = app->cfg.registrations[i].trunk;
		struct store_outbound_trunk t;
		if (store_outbound_trunk_get(app->store, id, &t)) {
			SB_ERROR("app", "registrations[%zu]: no outbound trunk %s", i, id);
			return SB_ENOTFOUND;
		}
		const char *user = t.auth_username && t.auth_username[0] ? t.auth_username
				   : t.numbers.n			 ? t.numbers.v[0]
									 : NULL;
		char aor[512];
		int n = snprintf(aor, sizeof(aor), "sip:%s@%s", user ? user : "",
				 t.address ? t.address : "");
		int err = !user || !t.address || !t.address[0] || n < 0 || (size_t)n >= sizeof(aor)
			      ? SB_EINVAL
			      : 0;
		if (!err) {
			struct sip_reg_opts ro = {
			    .aor = aor,
			    .auth_user =
				t.auth_username && t.auth_username[0] ? t.auth_username : NULL,
			    .auth_password = t.auth_password,
			    .expires = app->cfg.registrations[i].expires,
			    .transport = t.transport == STORE_TRANSPORT_TCP   ? SIP_TP_TCP
					 : t.transport == STORE_TRANSPORT_TLS ? SIP_TP_TLS
									      : SIP_TP_UDP,
			    .state = trunk_reg_state,
			    .arg = app->cfg.registrations[i].trunk,
			};
			err = sip_reg_new(app->ua, &ro, &app->trunk_regs[i]);
		}
		if (err)
			SB_ERROR("app", "registrations[%zu]: cannot register trunk %s as %s: %s", i,
				 id, aor, sb_strerror(err));
		else
			SB_INFO("app", "trunk %s registers as %s", id, aor);
		store_outbound_trunk_free(&t);
		if (err)
			return err;
	}
	return 0;
}

static int start_register(struct app *app)
{
	struct sip_reg_opts ro = {
	    .aor = app->cfg.register_uri,
	    .auth_user = app->cfg.dial_user[0] ? app->cfg.dial_user : NULL,
	    .auth_password = app->cfg.dial_password[0] ? app->cfg.dial_password : NULL,
	    .expires = app->cfg.register_expires,
	    .transport = app->cfg.dial_transport,
	    .state = reg_state,
	    .arg = app,
	};
	int err = sip_reg_new(app->ua, &ro, &app->registration);
	if (err)
		SB_ERROR("app", "cannot register %s: %s", app->cfg.register_uri, sb_strerror(err));
	return err;
}

/* Port 0 means any free port, the same for UDP and TCP: a port the kernel hands out for UDP
 * may be the local port of someone's TCP connection, so probe both before listening (a few
 * tries). 0 when the host is not numeric or nothing was found (the listeners then pick). */
static uint16_t free_udp_tcp_port(const char *host)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				 .ai_socktype = SOCK_DGRAM};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, "0", &hints, &ai) || !ai)
		return 0;
	uint16_t found = 0;
	for (int attempt = 0; attempt < 20 && !found; attempt++) {
		int u = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int t = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int one = 1;
		if (u >= 0 && t >= 0 && bind(u, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    getsockname(u, (struct sockaddr *)&ss, &len) == 0 &&
		    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(t, (struct sockaddr *)&ss, len) == 0)
			found = ntohs(ss.ss_family == AF_INET6
					  ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
					  : ((struct sockaddr_in *)(void *)&ss)->sin_port);
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
	}
	freeaddrinfo(ai);
	return found;
}

static int start_sip(struct app *app, bool with_handlers)
{
	struct sb_config *cfg = &app->cfg;
	struct sip_ua_opts o = {
	    .loop = app->loop,
	    .handlers = with_handlers ? &ua_handlers : NULL,
	    .arg = app,
	    .t1_ms = cfg->t1_ms,
	    .t2_ms = cfg->t2_ms,
	    .t4_ms = cfg->t4_ms,
	    .tls_cert_file = cfg->tls_cert[0] ? cfg->tls_cert : NULL,
	    .tls_key_file = cfg->tls_key[0] ? cfg->tls_key : NULL,
	    .max_calls = cfg->max_calls,
	    .auth_lookup = with_handlers && cfg->dial_user[0] ? serve_auth_lookup : NULL,
	    .auth_md5_first = cfg->auth_md5_first != 0,
	};
	int err = sip_ua_new(&app->ua, &o);
	if (err) {
		SB_ERROR("app", "SIP stack: %s", sb_strerror(err));
		return err;
	}
	char host[128];
	uint16_t port;
	if (parse_hostport(cfg->sip_listen, host, sizeof(host), &port)) {
		SB_ERROR("app", "bad --sip-listen %s (want HOST:PORT)", cfg->sip_listen);
		return SB_EINVAL;
	}
	if (port == 0)
		port = free_udp_tcp_port(host);
	err = sip_ua_listen(app->ua, SIP_TP_UDP, host, port);
	if (!err)
		err = sip_ua_listen(app->ua, SIP_TP_TCP, host, sip_ua_port(app->ua, SIP_TP_UDP));
	if (err) {
		SB_ERROR("app", "cannot listen for SIP on %s", cfg->sip_listen);
		return err;
	}
	if (cfg->tls_cert[0]) {
		char thost[128];
		uint16_t tport = 0;
		if (cfg->sip_tls_listen[0]) {
			if (parse_hostport(cfg->sip_tls_listen, thost, sizeof(thost), &tport))
				return SB_EINVAL;
		} else {
			snprintf(thost, sizeof(thost), "%s", host);
			tport = cfg->sip_tls_port ? (uint16_t)cfg->sip_tls_port
				: port		  ? (uint16_t)(port + 1)
						  : 0;
		}
		err = sip_ua_listen(app->ua, SIP_TP_TLS, thost, tport);
		if (err) {
			SB_ERROR("app", "cannot listen for SIP over TLS");
			return err;
		}
	}
	return 0;
}

static int setup_common(struct app *app)
{
	app->loop = uv_default_loop();
	uint16_t lo, hi;
	if (rtp_pool_parse_range(app->cfg.rtp_ports, &lo, &hi) ||
	    rtp_pool_init(&app->pool, lo, hi)) {
		SB_ERROR("app", "bad RTP port range %s (want LO-HI)", app->cfg.rtp_ports);
		return SB_EINVAL;
	}
	uv_signal_init(app->loop, &app->sigterm);
	uv_signal_init(app->loop, &app->sigint);
	app->sigterm.data = app->sigint.data = app;
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	/* Every call holds sockets: take the hard limit on descriptors (Debian's soft one is 1024).
	 */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

/* "PCMU,PCMA,G722,opus" -> SDP codec list. */
static int parse_codecs(const char *text, enum sdp_codec *out, uint8_t *n)
{
	*n = 0;
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		enum sdp_codec found = SDP_CODEC_NONE;
		for (int c = SDP_CODEC_NONE + 1; c < SDP_CODEC__COUNT; c++) {
			const struct sdp_codec_info *ci = sdp_codec_info((enum sdp_codec)c);
			if (ci->primary && strlen(ci->name) == len &&
			    !strncasecmp(ci->name, p, len))
				found = (enum sdp_codec)c;
		}
		if (found == SDP_CODEC_NONE || *n >= SDP_MAX_LOCAL_CODECS)
			return SB_EINVAL;
		out[(*n)++] = found;
		p += len;
		if (*p == ',')
			p++;
	}
	return *n ? 0 : SB_EINVAL;
}

static int start_media(struct app *app)
{
	struct sb_config *cfg = &app->cfg;
	struct call_mgr_opts co = {
	    .loop = app->loop,
	    .pool = &app->pool,
	    .rtp_ip = cfg->rtp_ip,
	    .opus = {.rate = cfg->opus_rate, .complexity = (int)cfg->opus_complexity, .fec = true},
	    .room_rate = cfg->room_rate,
	    .rtp_timeout_ms = cfg->rtp_timeout * 1000u,
	    .first_rtp_timeout_ms = cfg->rtp_first_timeout * 1000u,
	    .answer_delay_ms = cfg->answer_delay_ms,
	    .store = app->store, /* NULL outside serve: dev routing */
	    .no_call_records = !cfg->call_records,
	    .room_empty_timeout_ms = cfg->room_empty_timeout * 1000u,
	    .room_departure_timeout_ms = cfg->room_departure_timeout * 1000u,
	};
	if (!strcmp(cfg->media_encryption, "disable")) {
		co.srtp = SDP_SRTP_DISABLE;
	} else if (!strcmp(cfg->media_encryption, "allow")) {
		co.srtp = SDP_SRTP_ALLOW;
	} else if (!strcmp(cfg->media_encryption, "require")) {
		co.srtp = SDP_SRTP_REQUIRE;
	} else {
		SB_ERROR("app", "bad --media-encryption '%s' (want disable, allow or require)",
			 cfg->media_encryption);
		return SB_EINVAL;
	}
	if (parse_codecs(cfg->codecs, co.codecs, &co.n_codecs)) {
		SB_ERROR("app", "bad --codecs '%s' (want a list of PCMU, PCMA, G722, opus)",
			 cfg->codecs);
		return SB_EINVAL;
	}
	rtp_sock_set_io(cfg->rtp_uring ? RTP_SOCK_IO_AUTO : RTP_SOCK_IO_SYSCALLS);
	struct media_engine_opts mo = {.control = app->loop, .workers = cfg->media_workers};
	int err = media_engine_new(&app->media, &mo);
	if (err) {
		SB_ERROR("app", "cannot start media workers: %s", sb_strerror(err));
		return err;
	}
	co.engine = app->media;
	const char *hold_trunks[SB_CONFIG_MAX_HOLD_TRUNKS];
	for (size_t i = 0; i < cfg->n_hold_local_trunks; i++)
		hold_trunks[i] = cfg->hold_local_trunks[i];
	co.hold_local = cfg->hold_local != 0;
	co.hold_local_trunks = hold_trunks;
	co.n_hold_local_trunks = cfg->n_hold_local_trunks;
	co.moh_file = cfg->music_on_hold[0] ? cfg->music_on_hold : NULL;
	err = call_mgr_new(&app->calls, &co);
	if (err) {
		SB_ERROR("app", "cannot start the call manager: %s", sb_strerror(err));
		return err;
	}
	return 0;
}

static int start_api(struct app *app)
{
	char host[128];
	uint16_t port;
	if (parse_hostport(app->cfg.http_listen, host, sizeof(host), &port)) {
		SB_ERROR("app", "bad --http-listen %s (want HOST:PORT)", app->cfg.http_listen);
		return SB_EINVAL;
	}
	struct api_key list[SB_CONFIG_MAX_KEYS];
	for (size_t i = 0; i < app->cfg.n_keys; i++)
		list[i] = (struct api_key){.key = app->cfg.keys[i].key,
					   .secret = app->cfg.keys[i].secret};
	struct api_keyring keys = {.keys = list, .n = app->cfg.n_keys};
	struct api_server_opts o = {.loop = app->loop,
				    .host = host,
				    .port = port,
				    .keys = &keys,
				    .store = app->store,
				    .calls = app->calls,
				    .ua = app->ua,
				    .version = SB_VERSION,
				    .no_metrics = !app->cfg.metrics_enabled,
				    .dev = app->cfg.dev != 0,
				    .agent_close = &app->cfg.agent_close};
	int err = api_server_new(&app->api, &o);
	if (err)
		SB_ERROR("app", "cannot serve the HTTP API on %s: %s", app->cfg.http_listen,
			 sb_strerror(err));
	return err;
}

/* Webhooks when the configuration names URLs: the rooms' events, posted off the call path. */
static int start_webhooks(struct app *app)
{
	const struct sb_config *cfg = &app->cfg;
	if (!cfg->webhook.n_urls)
		return 0;
	const char *urls[SB_CONFIG_MAX_WEBHOOK_URLS];
	for (size_t i = 0; i < cfg->webhook.n_urls; i++)
		urls[i] = cfg->webhook.urls[i];
	struct api_webhook_opts o = {.loop = app->loop,
				     .urls = urls,
				     .n_urls = cfg->webhook.n_urls,
				     .api_key = cfg->webhook.api_key,
				     .api_secret = sb_config_secret(cfg, cfg->webhook.api_key)};
	int err = api_webhook_new(&app->webhooks, &o);
	if (err) {
		SB_ERROR("app", "cannot start webhooks: %s", sb_strerror(err));
		return err;
	}
	sb_events_attach(call_mgr_rooms(app->calls), app->webhooks);
	sb_events_attach_calls(app->calls, app->webhooks);
	if (app->api)
		api_server_set_webhooks(app->api, app->webhooks);
	SB_INFO("app", "webhooks to %zu URL(s), signed with key %s", cfg->webhook.n_urls,
		cfg->webhook.api_key);
	return 0;
}

/* The agents of `agents:`, dialled when a call enters a room that names one (call manager). */
static int start_agents(struct app *app)
{
	struct api_agent_dial_opts o = {.loop = app->loop,
					.calls = app->calls,
					.agents = app->cfg.agents,
					.n_agents = app->cfg.n_agents,
					.rest = app->api ? api_server_agent_ws(app->api) : NULL};
	int err = api_agent_dial_new(&app->agents, &o);
	if (err) {
		SB_ERROR("app", "cannot start the agents: %s", sb_strerror(err));
		return err;
	}
	call_mgr_set_agent_dispatch(app->calls, api_agent_dial_dispatch, app->agents);
	return 0;
}

/* Opens the database (blocking, at start-up) after the loop exists: its writer thread
 * reports back through the loop. */
static int start_store(struct app *app)
{
	const struct sb_config *cfg = &app->cfg;
	const char *dir = cfg->store_dir[0]  ? cfg->store_dir
			  : cfg->data_dir[0] ? cfg->data_dir
					     : ".";
	if (cfg->store_dir[0] && mkdir(dir, 0755) && errno != EEXIST) {
		SB_ERROR("app", "cannot create store directory %s: %s", dir, strerror(errno));
		return SB_EIO;
	}
	char why[256] = "";
	struct store_opts o = {.loop = app->loop,
			       .dir = dir,
			       .backend = cfg->store_type[0] ? cfg->store_type : NULL,
			       .errbuf = why,
			       .errbuf_len = sizeof(why)};
	int err = store_open(&app->store, &o);
	if (err) {
		const char *reason = why[0] ? why : sb_strerror(err);
		if (!strncmp(reason, "store: ", 7))
			reason += 7;
		SB_ERROR("app", "cannot open the store in %s: %s", dir, reason);
	}
	return err;
}

static int cmd_serve(struct app *app)
{
	if (setup_common(app))
		return 2;
	if (app->cfg.data_dir[0] && mkdir(app->cfg.data_dir, 0755) && errno != EEXIST) {
		SB_ERROR("app", "cannot create data directory %s: %s", app->cfg.data_dir,
			 strerror(errno));
		return 2;
	}
	if (start_store(app))
		return 2;
	char why[768];
	if (sb_declared_apply(app->store, &app->cfg.sip, why, sizeof(why))) {
		fprintf(stderr, "switchboard: %s\n", why);
		return 2;
	}
	if (start_media(app))
		return 2;
	if (start_sip(app, true))
		return 2;
	call_mgr_set_ua(app->calls, app->ua);
	if (app->cfg.register_uri[0] && start_register(app))
		return 2;
	if (start_trunk_registrations(app))
		return 2;
	if (start_api(app))
		return 2;
	if (start_webhooks(app))
		return 2;
	if (start_agents(app))
		return 2;
	uint16_t tls = sip_ua_port(app->ua, SIP_TP_TLS);
	char host[128];
	uint16_t port;
	parse_hostport(app->cfg.sip_listen, host, sizeof(host), &port);
	bool v6 = strchr(host, ':') != NULL;
	char tls_text[160] = "";
	if (tls)
		snprintf(tls_text, sizeof(tls_text), " tls %s%s%s:%u", v6 ? "[" : "", host,
			 v6 ? "]" : "", tls);
	char http_host[128];
	uint16_t http_port;
	parse_hostport(app->cfg.http_listen, http_host, sizeof(http_host), &http_port);
	bool http_v6 = strchr(http_host, ':') != NULL;
	/* Printed at every log level: scripts wait for this line. */
	sb_log_write(SB_LOG_INFO, "app",
		     "switchboard ready: sip udp+tcp %s%s%s:%u%s rtp %s http %s%s%s:%u data %s",
		     v6 ? "[" : "", host, v6 ? "]" : "", sip_ua_port(app->ua, SIP_TP_UDP), tls_text,
		     app->cfg.rtp_ports, http_v6 ? "[" : "", http_host, http_v6 ? "]" : "",
		     api_server_port(app->api), app->cfg.data_dir);
	uv_run(app->loop, UV_RUN_DEFAULT);
	media_wav_free(&app->say);
	rtp_pool_free(&app->pool);
	uv_loop_close(app->loop);
	media_resampler_cache_flush();
	SB_INFO("app", "stopped");
	return 0;
}

/* ---- dial ---- */

static void dial_hangup_timer(uv_timer_t *t)
{
	struct app *app = t->data;
	if (app->out_call) {
		if (!app->answered)
			SB_INFO("app", "no answer after %u s, cancelling", app->cfg.ring_timeout);
		sip_call_hangup(app->out_call, NULL, NULL);
	}
}

static void dial_dtmf_next(struct app *app);

static void dial_dtmf_done(void *arg, int status)
{
	struct app *app = arg;
	SB_INFO("app", "INFO DTMF answered %d", status);
	dial_dtmf_next(app);
}

static void dial_dtmf_next(struct app *app)
{
	if (!app->out_call || !app->cfg.dtmf[app->dtmf_next])
		return;
	char d = app->cfg.dtmf[app->dtmf_next++];
	if (sip_call_send_info_dtmf(app->out_call, d, 160, dial_dtmf_done, app))
		SB_WARN("app", "cannot send DTMF %c", d);
}

static void dial_resume_done(void *arg, int status)
{
	(void)arg;
	SB_INFO("app", "resume answered %d", status);
}

static void dial_resume_step(uv_timer_t *t)
{
	struct app *app = t->data;
	if (app->out_call && sip_call_resume(app->out_call, dial_resume_done, app))
		SB_WARN("app", "cannot resume now");
}

static void dial_hold_done(void *arg, int status)
{
	struct app *app = arg;
	SB_INFO("app", "hold answered %d", status);
	if (status >= 200 && status < 300)
		uv_timer_start(&app->step_timer, dial_resume_step,
			       (uint64_t)app->cfg.hold_for * 1000, 0);
}

static void dial_hold_step(uv_timer_t *t)
{
	struct app *app = t->data;
	if (app->out_call && sip_call_hold(app->out_call, dial_hold_done, app))
		SB_WARN("app", "cannot hold now");
}

static void dial_refer_done(void *arg, int status, const char *reason)
{
	struct app *app = arg;
	app->refer_status = status;
	SB_INFO("app", "transfer result: %d %s", status, reason ? reason : "");
	if (status >= 200 && status < 300 && app->out_call)
		sip_call_hangup(app->out_call, NULL, NULL);
}

/* dial --say: the speech joins the call's room as a player; the call ends after it. */
static uint64_t dial_say(struct app *app)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = app->say_room;
	j.identity = "say";
	j.kind = ROOM_PART_AGENT;
	j.media = ROOM_MEDIA_PLAYER;
	j.wav = app->say; /* taken over by the room */
	uint64_t ms = app->say.rate ? (uint64_t)app->say.n * 1000u / app->say.rate : 0;
	memset(&app->say, 0, sizeof(app->say));
	struct room_part *p;
	int err = room_join(call_mgr_rooms(app->calls), &j, &p);
	if (err) {
		SB_ERROR("app", "cannot play the speech: %s", sb_strerror(err));
		return 0;
	}
	SB_INFO("app", "saying \"%.60s\" (%llu ms)", app->cfg.say, (unsigned long long)ms);
	return ms + 500; /* the tail of the last frame and the far end's jitter buffer */
}

static void dial_established(struct sip_call *c, void *arg)
{
	struct app *app = arg;
	app->answered = true;
	uint64_t hangup_ms = (uint64_t)app->cfg.dial_duration * 1000;
	if (app->say.n)
		hangup_ms = dial_say(app);
	SB_INFO("app", "call answered; hanging up in %.1f s", (double)hangup_ms / 1000.0);
	uv_timer_start(&app->dial_timer, dial_hangup_timer, hangup_ms, 0);
	dial_dtmf_next(app);
	if (app->cfg.hold_after)
		uv_timer_start(&app->step_timer, dial_hold_step,
			       (uint64_t)app->cfg.hold_after * 1000, 0);
	if (app->cfg.refer_to[0]) {
		int err = sip_call_refer(c, app->cfg.refer_to, NULL, app->cfg.ring_timeout * 1000,
					 dial_refer_done, app);
		if (err)
			SB_WARN("app", "cannot send REFER: %s", sb_strerror(err));
	}
}

static void dial_progress(struct sip_call *c, int status, void *arg)
{
	(void)c;
	(void)arg;
	SB_INFO("app", "progress: %d", status);
}

static void dial_ended(struct sip_call *c, int status, const char *reason, void *arg)
{
	struct app *app = arg;
	app->out_call = NULL;
	app->final_status = status;
	SB_INFO("app", "call %.*s ended: %d %s", SB_SLICE_ARG(sip_call_id(c)), status,
		reason ? reason : "");
	uv_timer_stop(&app->dial_timer);
	uv_timer_stop(&app->step_timer);
	if (!app->answered)
		app->exit_code = 1;
	else if (app->cfg.refer_to[0] && !(app->refer_status >= 200 && app->refer_status < 300))
		app->exit_code = 3;
	else
		app->exit_code = 0;
	app_stop(app);
}

static const struct sip_call_handlers dial_handlers = {
    .progress = dial_progress,
    .established = dial_established,
    .media = on_call_media,
    .hold = on_call_hold,
    .dtmf = on_call_dtmf,
    .ended = dial_ended,
};

static int cmd_dial(struct app *app, const char *target)
{
	if (setup_common(app))
		return 2;
	if (start_media(app) || start_sip(app, false))
		return 2;
	call_mgr_set_ua(app->calls, app->ua);
	uv_timer_init(app->loop, &app->dial_timer);
	uv_timer_init(app->loop, &app->step_timer);
	app->dial_timer.data = app->step_timer.data = app;
	app->timers_ready = true;
	if (app->cfg.say[0]) {
		/* before the loop runs: synthesis blocks for a moment */
		int err = media_tts_say(app->cfg.say, app->cfg.say_voice, &app->say);
		if (err) {
			SB_ERROR("app", "--say: cannot synthesise speech: %s", sb_strerror(err));
			rtp_pool_free(&app->pool);
			return 2;
		}
		/* a room of its own (no echo participant), unless --room says where */
		char tok[12];
		sb_random_token(tok, sizeof(tok));
		snprintf(app->say_room, sizeof(app->say_room), "%s",
			 app->cfg.dial_room[0] ? app->cfg.dial_room : "");
		if (!app->say_room[0])
			snprintf(app->say_room, sizeof(app->say_room), "say-%.*s", (int)sizeof(tok),
				 tok);
	}
	struct call_dial_opts o = {
	    .sip =
		{
		    .target = target,
		    .from_user = "switchboard",
		    .transport = app->cfg.dial_transport,
		    .proxy = app->cfg.dial_proxy[0] ? app->cfg.dial_proxy : NULL,
		    .auth_user = app->cfg.dial_user[0] ? app->cfg.dial_user : NULL,
		    .auth_password = app->cfg.dial_password[0] ? app->cfg.dial_password : NULL,
		},
	    .room = app->say_room[0]	    ? app->say_room
		    : app->cfg.dial_room[0] ? app->cfg.dial_room
					    : NULL,
	    .h = &dial_handlers,
	    .arg = app,
	};
	int err = call_mgr_dial(app->calls, &o, &app->out_call, NULL);
	if (err) {
		SB_ERROR("app", "cannot dial %s: %s", target, sb_strerror(err));
		app->exit_code = 2;
		app_stop(app);
	} else {
		uv_timer_start(&app->dial_timer, dial_hangup_timer,
			       (uint64_t)app->cfg.ring_timeout * 1000, 0);
	}
	uv_run(app->loop, UV_RUN_DEFAULT);
	rtp_pool_free(&app->pool);
	uv_loop_close(app->loop);
	media_resampler_cache_flush();
	return app->exit_code;
}

static void usage(FILE *f)
{
	fputs(
	    "usage: switchboard serve [options]\n"
	    "       switchboard dial URI [--duration SECONDS] [--transport udp|tcp|tls] [--proxy "
	    "HOST:PORT]\n"
	    "                            [--auth-user U --auth-password P] [options]\n"
	    "       switchboard token [--api-key K --api-secret S] [--grant LIST] [--room R] "
	    "[--identity ID] [--ttl S]\n"
	    "       switchboard sip inbound|outbound|dispatch create|list|get|update|delete ...\n"
	    "       switchboard sip participant create|transfer|hold|resume|dtmf ...\n"
	    "       switchboard room list|participants|remove ...\n"
	    "                            [--url URL] [--api-key K --api-secret S] [--json]\n"
	    "                            (a client of a running server; `switchboard sip --help`)\n"
	    "       switchboard version\n"
	    "options:\n"
	    "  --config FILE          configuration file (switchboard.yaml)\n"
	    "  --sip-listen HOST:PORT SIP over UDP and TCP (default 127.0.0.1:5060; port 0 picks "
	    "one)\n"
	    "  --sip-tls-listen HOST:PORT  SIP over TLS (default: SIP port + 1 when a certificate "
	    "is set)\n"
	    "  --tls-cert FILE --tls-key FILE  certificate and key (PEM) for SIP over TLS\n"
	    "  --http-listen HOST:PORT HTTP API (default 127.0.0.1:7880; port 0 picks one)\n"
	    "  --api-key K --api-secret S  the API key and secret tokens are signed with\n"
	    "                         (default devkey / secret)\n"
	    "  --rtp-ports LO-HI      RTP port range (default 10000-20000)\n"
	    "  --rtp-ip IP            address put in SDP (default 127.0.0.1)\n"
	    "  --data-dir DIR         data directory (default ./data)\n"
	    "  --log-level LEVEL      error, warn, info, debug, trace (default info)\n"
	    "  --t1 MS --t2 MS --t4 MS  SIP timer bases (default 500, 4000, 5000)\n"
	    "  --max-calls N          answer 503 above N concurrent calls (default unlimited)\n"
	    "  --answer-delay MS      serve: ring (180) for MS before answering (default 0)\n"
	    "  --auth-md5-first 1     serve: challenge with MD5 before SHA-256 (MD5-only callers)\n"
	    "  --auth-user U --auth-password P  serve: require digest auth from callers;\n"
	    "                         dial/register: answer 401/407 challenges with these\n"
	    "  --register sip:USER@HOST[:PORT]  keep a registration there (--register-expires S)\n"
	    "  --hold-local true      hold without re-INVITE (every call; per trunk: yaml hold:)\n"
	    "  --music-on-hold FILE   what a caller held that way hears (a WAV, looped)\n"
	    "dial options:\n"
	    "  --ring-timeout S       CANCEL when not answered in S seconds (default 30)\n"
	    "  --dtmf DIGITS          send DIGITS by SIP INFO once answered\n"
	    "  --say TEXT             speak TEXT (espeak-ng) once answered, then hang up\n"
	    "  --voice NAME           the espeak-ng voice for --say (default en)\n"
	    "  --hold-after S --hold-for S  put the callee on hold S s after answer, resume later\n"
	    "  --refer URI            transfer the callee to URI; exit 3 unless it succeeds\n"
	    "  --room NAME            put the call in room NAME (default: a fresh room with an "
	    "echo)\n",
	    f);
}

int main(int argc, char **argv)
{
	static struct app app;
	sb_config_defaults(&app.cfg);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("switchboard %s\n", SB_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "token"))
		return sb_cmd_token(&app.cfg, argc - 2, argv + 2);
	if (cli_is_command(argc - 1, argv + 1)) {
		char url[160], err[256];
		sb_config_finish(&app.cfg, err, sizeof(err)); /* the built-in key: devkey/secret */
		snprintf(url, sizeof(url), "http://%s", app.cfg.http_listen);
		struct cli_defaults d = {url, app.cfg.keys[0].key, app.cfg.keys[0].secret};
		return cli_main(&d, argc - 1, argv + 1);
	}
	const char *target = NULL;
	int first = 2;
	if (!strcmp(cmd, "dial")) {
		if (argc < 3 || argv[2][0] == '-') {
			usage(stderr);
			return 2;
		}
		target = argv[2];
		first = 3;
		snprintf(app.cfg.sip_listen, sizeof(app.cfg.sip_listen), "127.0.0.1:0");
	} else if (strcmp(cmd, "serve")) {
		fprintf(stderr, "switchboard: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	char err[512];
	if (sb_config_args(&app.cfg, argc - first, argv + first, err, sizeof(err))) {
		fprintf(stderr, "switchboard: %s\n", err);
		return 2;
	}
	sb_log_set_level(app.cfg.log_level);
	int rc = target ? cmd_dial(&app, target) : cmd_serve(&app);
	sb_config_free(&app.cfg);
	return rc;
}
