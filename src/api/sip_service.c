/* The livekit.SIP trunk and dispatch-rule handlers: sip_json parses and checks the request,
 * the store holds the records (answered from memory, persisted by its writer thread). */
#include "api/sip_service.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_json.h"
#include "base/err.h"
#include "base/log.h"

#define SERVICE		"livekit.SIP"
#define TRUNK_NOT_FOUND "requested sip trunk does not exist"
#define RULE_NOT_FOUND	"requested sip dispatch rule does not exist"

/* ---- errors ---- */

/* A parse, validation or conflict failure of sip_json: rc is SB_EINVAL or SB_ENOMEM. */
static int request_error(struct twirp_error *e, int rc, const char *msg)
{
	if (rc == SB_EINVAL)
		twirp_error_set(e, TWIRP_INVALID_ARGUMENT, "%s", msg);
	else
		twirp_error_set(e, TWIRP_INTERNAL, "%s", rc == SB_ENOMEM ? "out of memory" : msg);
	return rc ? rc : SB_EINVAL;
}

/* An error a store call returned at once (nothing was changed). */
static int store_error(struct twirp_error *e, int rc, const char *not_found)
{
	switch (rc) {
	case SB_ENOTFOUND:
		twirp_error_set(e, TWIRP_NOT_FOUND, "%s", not_found);
		break;
	case SB_EBUSY:
		twirp_error_set(e, TWIRP_UNAVAILABLE, "the store is busy: try again");
		break;
	case SB_ECLOSED:
		twirp_error_set(e, TWIRP_UNAVAILABLE, "shutting down");
		break;
	case SB_ENOMEM:
		twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
		break;
	default:
		twirp_error_set(e, TWIRP_INTERNAL, "store: %s", sb_strerror(rc));
		break;
	}
	return rc ? rc : SB_EIO;
}

static int nomem(struct twirp_error *e)
{
	twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
	return SB_ENOMEM;
}

/* ---- persistence ---- */

/* What a write's completion callback needs to say which write did not land. */
struct write_ctx {
	const char *rpc; /* a string literal */
	char id[STORE_ID_MAX];
};

static struct write_ctx *write_ctx_new(const char *rpc, const char *id)
{
	struct write_ctx *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->rpc = rpc;
	if (id)
		snprintf(w->id, sizeof(w->id), "%s", id);
	return w;
}

/* The handler has answered long ago: a failure can only be logged. Memory keeps the new
 * value (the store's rule), so the API and calls go on seeing it until a restart. */
static void write_done(void *arg, int err)
{
	struct write_ctx *w = arg;
	if (err)
		SB_ERROR("api", "%s %s: not saved to the database: %s (kept in memory only)",
			 w->rpc, w->id, sb_strerror(err));
	free(w);
}

/* ---- trunks ---- */

static int create_inbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			  void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct store_inbound_trunk t, out = {0};
	int rc = sip_json_parse_create_inbound_trunk(call->req, &t, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	size_t n;
	const struct store_inbound_trunk *all = store_inbound_trunks(s, &n);
	rc = sip_json_check_inbound_conflicts(&t, all, n, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	struct write_ctx *w = write_ctx_new("CreateSIPInboundTrunk", NULL);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_inbound_trunk_create(s, &t, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	/* the callback runs on a later loop turn, never inside the call */
	snprintf(w->id, sizeof(w->id), "%s", out.id);
	*resp = sip_json_inbound_trunk(&out);
	if (!*resp)
		rc = nomem(e);
out:
	store_inbound_trunk_free(&t);
	store_inbound_trunk_free(&out);
	return rc;
}

static int create_outbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			   void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct store_outbound_trunk t, out = {0};
	/* outbound trunks have no conflict rule in LK */
	int rc = sip_json_parse_create_outbound_trunk(call->req, &t, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	struct write_ctx *w = write_ctx_new("CreateSIPOutboundTrunk", NULL);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_outbound_trunk_create(s, &t, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	snprintf(w->id, sizeof(w->id), "%s", out.id);
	*resp = sip_json_outbound_trunk(&out);
	if (!*resp)
		rc = nomem(e);
out:
	store_outbound_trunk_free(&t);
	store_outbound_trunk_free(&out);
	return rc;
}

static int update_inbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			  void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_update_inbound_req r;
	struct store_inbound_trunk cur = {0}, out = {0};
	int rc = sip_json_parse_update_inbound_trunk(call->req, &r, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	rc = store_inbound_trunk_get(s, r.id, &cur);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	const struct store_inbound_trunk *next = &r.replace;
	if (!r.is_replace) {
		rc = sip_json_apply_inbound_update(&cur, &r.update, msg, sizeof(msg));
		if (rc) {
			request_error(e, rc, msg);
			goto out;
		}
		next = &cur;
	}
	size_t n;
	const struct store_inbound_trunk *all = store_inbound_trunks(s, &n);
	rc = sip_json_check_inbound_conflicts(next, all, n, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	struct write_ctx *w = write_ctx_new("UpdateSIPInboundTrunk", r.id);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_inbound_trunk_replace(s, next, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_inbound_trunk(&out);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_update_inbound_req_free(&r);
	store_inbound_trunk_free(&cur);
	store_inbound_trunk_free(&out);
	return rc;
}

static int update_outbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			   void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_update_outbound_req r;
	struct store_outbound_trunk cur = {0}, out = {0};
	int rc = sip_json_parse_update_outbound_trunk(call->req, &r, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	rc = store_outbound_trunk_get(s, r.id, &cur);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	const struct store_outbound_trunk *next = &r.replace;
	if (!r.is_replace) {
		rc = sip_json_apply_outbound_update(&cur, &r.update, msg, sizeof(msg));
		if (rc) {
			request_error(e, rc, msg);
			goto out;
		}
		next = &cur;
	}
	struct write_ctx *w = write_ctx_new("UpdateSIPOutboundTrunk", r.id);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_outbound_trunk_replace(s, next, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_outbound_trunk(&out);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_update_outbound_req_free(&r);
	store_outbound_trunk_free(&cur);
	store_outbound_trunk_free(&out);
	return rc;
}

static int get_inbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct store *s = arg;
	char msg[256];
	char *id = NULL;
	struct store_inbound_trunk t = {0};
	int rc = sip_json_parse_trunk_id(call->req, &id, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	rc = store_inbound_trunk_get(s, id, &t);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_get_inbound_trunk_response(&t);
	if (!*resp)
		rc = nomem(e);
out:
	free(id);
	store_inbound_trunk_free(&t);
	return rc;
}

static int get_outbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			void *arg)
{
	struct store *s = arg;
	char msg[256];
	char *id = NULL;
	struct store_outbound_trunk t = {0};
	int rc = sip_json_parse_trunk_id(call->req, &id, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	rc = store_outbound_trunk_get(s, id, &t);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_get_outbound_trunk_response(&t);
	if (!*resp)
		rc = nomem(e);
out:
	free(id);
	store_outbound_trunk_free(&t);
	return rc;
}

static int list_inbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_list_req l;
	struct store_inbound_trunk_list v = {0};
	int rc = sip_json_parse_list_trunks(call->req, &l, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	struct store_filter f;
	sip_json_list_req_filter(&l, &f);
	rc = store_inbound_trunk_list(s, &f, &v);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_inbound_trunk_list(v.v, v.n);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_list_req_free(&l);
	store_inbound_trunk_list_free(&v);
	return rc;
}

static int list_outbound(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			 void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_list_req l;
	struct store_outbound_trunk_list v = {0};
	int rc = sip_json_parse_list_trunks(call->req, &l, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	struct store_filter f;
	sip_json_list_req_filter(&l, &f);
	rc = store_outbound_trunk_list(s, &f, &v);
	if (rc) {
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_outbound_trunk_list(v.v, v.n);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_list_req_free(&l);
	store_outbound_trunk_list_free(&v);
	return rc;
}

static const char *id_of(const char *id)
{
	return id ? id : "";
}

/* ListSIPTrunk (dep), still called by the node SDK's listSipTrunk: every inbound and
 * outbound trunk as a SIPTrunkInfo, sorted by id, paged like the other lists (LK filters
 * nothing else). */
static int list_legacy(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_list_req l;
	int rc = sip_json_parse_list_trunks(call->req, &l, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	size_t ni, no, i = 0, j = 0, count = 0;
	const struct store_inbound_trunk *in = store_inbound_trunks(s, &ni);
	const struct store_outbound_trunk *ob = store_outbound_trunks(s, &no);
	json_t *items = json_array();
	/* both views are sorted by id: merge them */
	while (items && (i < ni || j < no) && (!l.limit || count < l.limit)) {
		bool take_in = j >= no || (i < ni && strcmp(id_of(in[i].id), id_of(ob[j].id)) < 0);
		const char *id = id_of(take_in ? in[i].id : ob[j].id);
		if (!l.after_id || strcmp(id, l.after_id) > 0) {
			json_t *x = take_in ? sip_json_inbound_trunk_legacy(&in[i])
					    : sip_json_outbound_trunk_legacy(&ob[j]);
			if (json_array_append_new(items, x)) { /* x NULL or no memory */
				json_decref(items);
				items = NULL;
			}
			count++;
		}
		if (take_in)
			i++;
		else
			j++;
	}
	*resp = items ? json_pack("{s:o}", "items", items) : NULL;
	if (!*resp)
		rc = nomem(e);
	sip_json_list_req_free(&l);
	return rc;
}

static int delete_trunk(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			void *arg)
{
	struct store *s = arg;
	char msg[256];
	char *id = NULL;
	int rc = sip_json_parse_trunk_id(call->req, &id, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	struct write_ctx *w = write_ctx_new("DeleteSIPTrunk", id);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_trunk_delete(s, id, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, TRUNK_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_delete_trunk_response(id);
	if (!*resp)
		rc = nomem(e);
out:
	free(id);
	return rc;
}

/* ---- dispatch rules ---- */

static int create_rule(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct store_dispatch_rule r, out = {0};
	int rc = sip_json_parse_create_dispatch_rule(call->req, &r, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	size_t n;
	const struct store_dispatch_rule *all = store_dispatch_rules(s, &n);
	rc = sip_json_check_rule_conflicts(&r, all, n, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	struct write_ctx *w = write_ctx_new("CreateSIPDispatchRule", NULL);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_dispatch_rule_create(s, &r, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, RULE_NOT_FOUND);
		goto out;
	}
	snprintf(w->id, sizeof(w->id), "%s", out.id);
	*resp = sip_json_dispatch_rule(&out);
	if (!*resp)
		rc = nomem(e);
out:
	store_dispatch_rule_free(&r);
	store_dispatch_rule_free(&out);
	return rc;
}

static int update_rule(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_update_rule_req r;
	struct store_dispatch_rule cur = {0}, out = {0};
	int rc = sip_json_parse_update_dispatch_rule(call->req, &r, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	rc = store_dispatch_rule_get(s, r.id, &cur);
	if (rc) {
		store_error(e, rc, RULE_NOT_FOUND);
		goto out;
	}
	const struct store_dispatch_rule *next = &r.replace;
	if (!r.is_replace) {
		rc = sip_json_apply_rule_update(&cur, &r.update, msg, sizeof(msg));
		if (rc) {
			request_error(e, rc, msg);
			goto out;
		}
		next = &cur;
	}
	size_t n;
	const struct store_dispatch_rule *all = store_dispatch_rules(s, &n);
	rc = sip_json_check_rule_conflicts(next, all, n, msg, sizeof(msg));
	if (rc) {
		request_error(e, rc, msg);
		goto out;
	}
	struct write_ctx *w = write_ctx_new("UpdateSIPDispatchRule", r.id);
	if (!w) {
		rc = nomem(e);
		goto out;
	}
	rc = store_dispatch_rule_replace(s, next, &out, write_done, w);
	if (rc) {
		free(w);
		store_error(e, rc, RULE_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_dispatch_rule(&out);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_update_rule_req_free(&r);
	store_dispatch_rule_free(&cur);
	store_dispatch_rule_free(&out);
	return rc;
}

static int list_rules(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		      void *arg)
{
	struct store *s = arg;
	char msg[512];
	struct sip_json_list_req l;
	struct store_dispatch_rule_list v = {0};
	int rc = sip_json_parse_list_rules(call->req, &l, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	struct store_filter f;
	sip_json_list_req_filter(&l, &f);
	rc = store_dispatch_rule_list(s, &f, &v);
	if (rc) {
		store_error(e, rc, RULE_NOT_FOUND);
		goto out;
	}
	*resp = sip_json_dispatch_rule_list(v.v, v.n);
	if (!*resp)
		rc = nomem(e);
out:
	sip_json_list_req_free(&l);
	store_dispatch_rule_list_free(&v);
	return rc;
}

/* Answers with the rule as it was, like LK. */
static int delete_rule(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
		       void *arg)
{
	struct store *s = arg;
	char msg[256];
	char *id = NULL;
	struct store_dispatch_rule r = {0};
	int rc = sip_json_parse_rule_id(call->req, &id, msg, sizeof(msg));
	if (rc)
		return request_error(e, rc, msg);
	rc = store_dispatch_rule_get(s, id, &r);
	if (rc) {
		store_error(e, rc, RULE_NOT_FOUND);
		goto out;
	}
	/* built before the delete, so a failure here changes nothing */
	*resp = sip_json_dispatch_rule(&r);
	if (!*resp) {
		rc = nomem(e);
		goto out;
	}
	struct write_ctx *w = write_ctx_new("DeleteSIPDispatchRule", id);
	rc = w ? store_dispatch_rule_delete(s, id, write_done, w) : SB_ENOMEM;
	if (rc) {
		free(w);
		store_error(e, rc, RULE_NOT_FOUND);
		json_decref(*resp);
		*resp = NULL;
	}
out:
	free(id);
	store_dispatch_rule_free(&r);
	return rc;
}

/* ---- registration ---- */

static const struct {
	const char *method;
	twirp_fn fn;
} methods[] = {
    {"CreateSIPInboundTrunk", create_inbound},
    {"CreateSIPOutboundTrunk", create_outbound},
    {"UpdateSIPInboundTrunk", update_inbound},
    {"UpdateSIPOutboundTrunk", update_outbound},
    {"GetSIPInboundTrunk", get_inbound},
    {"GetSIPOutboundTrunk", get_outbound},
    {"ListSIPInboundTrunk", list_inbound},
    {"ListSIPOutboundTrunk", list_outbound},
    {"ListSIPTrunk", list_legacy},
    {"DeleteSIPTrunk", delete_trunk},
    {"CreateSIPDispatchRule", create_rule},
    {"UpdateSIPDispatchRule", update_rule},
    {"ListSIPDispatchRule", list_rules},
    {"DeleteSIPDispatchRule", delete_rule},
};

int sip_service_register(struct twirp_server *t, struct store *store)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		/* perm NONE: the grant comes from api_rpc_perm's table (sip.admin) */
		struct twirp_method m = {.service = SERVICE,
					 .method = methods[i].method,
					 .fn = methods[i].fn,
					 .arg = store};
		int err = twirp_register(t, &m);
		if (err)
			return err;
	}
	return 0;
}
