/* livekit.SIP call requests -> request structs, protobuf-JSON style: CreateSIPParticipant
 * (with its inline SIPOutboundConfig trunk) and TransferSIPParticipant. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/sip_json.h"
#include "api/sip_json_int.h"
#include "base/err.h"

/* ---- CreateSIPParticipant / TransferSIPParticipant ---- */

void sip_json_participant_req_free(struct sip_json_participant_req *r)
{
	free(r->trunk_id);
	store_outbound_trunk_free(&r->inline_trunk);
	free(r->call_to);
	free(r->number);
	free(r->room);
	free(r->identity);
	free(r->name);
	free(r->metadata);
	free(r->dtmf);
	free(r->display_name);
	store_map_free(&r->attributes);
	store_map_free(&r->headers);
	memset(r, 0, sizeof(*r));
}

/* SIPOutboundConfig: the fields an inline trunk has. */
static int parse_inline_trunk(struct sip_json__pctx *c, const json_t *o,
			      struct store_outbound_trunk *t)
{
	int tr = 0;
	int e = sip_json__get_str(c, o, "hostname", &t->address);
	e = e ? e : sip_json__get_str(c, o, "destination_country", &t->destination_country);
	e = e ? e : sip_json__get_enum(c, o, "transport", &sip_json__transport_enum, &tr, NULL);
	e = e ? e : sip_json__get_str(c, o, "auth_username", &t->auth_username);
	e = e ? e : sip_json__get_str(c, o, "auth_password", &t->auth_password);
	e = e ? e : sip_json__get_map(c, o, "headers_to_attributes", &t->headers_to_attributes);
	e = e ? e : sip_json__get_map(c, o, "attributes_to_headers", &t->attributes_to_headers);
	e = e ? e : sip_json__get_str(c, o, "from_host", &t->from_host);
	t->transport = (enum store_transport)tr;
	if (!e && sip_json__empty(t->address))
		e = sip_json__fail(c, "trunk.hostname is required");
	return e;
}

int sip_json_parse_create_participant(const json_t *req, struct sip_json_participant_req *out,
				      char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *trunk = NULL;
	bool ringtone = false;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_str(&c, req, "sip_trunk_id", &out->trunk_id);
	e = e ? e : sip_json__get_object(&c, req, "trunk", &trunk);
	if (!e && trunk) {
		size_t old = sip_json__push(&c, "trunk");
		out->has_inline_trunk = true;
		e = parse_inline_trunk(&c, trunk, &out->inline_trunk);
		sip_json__pop(&c, old);
	}
	e = e ? e : sip_json__get_str(&c, req, "sip_call_to", &out->call_to);
	e = e ? e : sip_json__get_str(&c, req, "sip_number", &out->number);
	e = e ? e : sip_json__get_str(&c, req, "room_name", &out->room);
	e = e ? e : sip_json__get_str(&c, req, "participant_identity", &out->identity);
	e = e ? e : sip_json__get_str(&c, req, "participant_name", &out->name);
	e = e ? e : sip_json__get_str(&c, req, "participant_metadata", &out->metadata);
	e = e ? e : sip_json__get_map(&c, req, "participant_attributes", &out->attributes);
	e = e ? e : sip_json__get_str(&c, req, "dtmf", &out->dtmf);
	e = e ? e : sip_json__get_bool(&c, req, "play_ringtone", &ringtone);
	e = e ? e : sip_json__get_bool(&c, req, "play_dialtone", &out->play_dialtone);
	e = e ? e : sip_json__get_bool(&c, req, "hide_phone_number", &out->hide_phone_number);
	e = e ? e : sip_json__get_map(&c, req, "headers", &out->headers);
	e = e ? e : sip_json__get_duration(&c, req, "ringing_timeout", &out->ringing_timeout_ms);
	e = e ? e
	      : sip_json__get_duration(&c, req, "max_call_duration", &out->max_call_duration_ms);
	e = e ? e : sip_json__get_bool(&c, req, "wait_until_answered", &out->wait_until_answered);
	e = e ? e : sip_json__get_str(&c, req, "display_name", &out->display_name);
	out->play_dialtone = out->play_dialtone || ringtone;
	out->has_display_name = out->display_name != NULL;
	if (!e && sip_json__empty(out->trunk_id) && !out->has_inline_trunk)
		e = sip_json__fail(&c, "missing sip trunk id");
	if (!e && sip_json__empty(out->call_to))
		e = sip_json__fail(&c, "missing sip callee number");
	if (!e && strchr(out->call_to, '@'))
		e = sip_json__fail(
		    &c, "sip_call_to must not contain '@' (give the number or user only)");
	if (!e && sip_json__empty(out->room))
		e = sip_json__fail(&c, "missing room name");
	if (!e && out->dtmf && strspn(out->dtmf, "0123456789*#ABCDabcdwW") != strlen(out->dtmf))
		e = sip_json__fail(&c,
				   "dtmf: only 0-9, *, #, A-D and w (a 0.5 s pause) are allowed");
	if (!e && out->display_name && strlen(out->display_name) > 128)
		e = sip_json__fail(&c, "display_name: at most 128 characters");
	if (!e && out->max_call_duration_ms > 24LL * 3600 * 1000)
		out->max_call_duration_ms = 24LL * 3600 * 1000; /* LK's cap */
	e = e ? e : sip_json__check_headers(&out->headers, err, err_len);
	if (e)
		sip_json_participant_req_free(out);
	return e;
}

void sip_json_transfer_req_free(struct sip_json_transfer_req *r)
{
	free(r->identity);
	free(r->room);
	free(r->transfer_to);
	store_map_free(&r->headers);
	memset(r, 0, sizeof(*r));
}

int sip_json_parse_transfer(const json_t *req, struct sip_json_transfer_req *out, char *err,
			    size_t err_len)
{
	struct sip_json__pctx c;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_str(&c, req, "participant_identity", &out->identity);
	e = e ? e : sip_json__get_str(&c, req, "room_name", &out->room);
	e = e ? e : sip_json__get_str(&c, req, "transfer_to", &out->transfer_to);
	e = e ? e : sip_json__get_map(&c, req, "headers", &out->headers);
	e = e ? e : sip_json__get_bool(&c, req, "play_dialtone", &out->play_dialtone);
	e = e ? e : sip_json__get_duration(&c, req, "ringing_timeout", &out->ringing_timeout_ms);
	if (!e && sip_json__empty(out->identity))
		e = sip_json__fail(&c, "missing participant identity");
	if (!e && sip_json__empty(out->room))
		e = sip_json__fail(&c, "missing room name");
	if (!e && sip_json__empty(out->transfer_to))
		e = sip_json__fail(&c, "missing transfer_to");
	if (!e) {
		/* "<sip:...>" -> "sip:..." */
		char *t = out->transfer_to;
		size_t n = strlen(t);
		if (n >= 2 && t[0] == '<' && t[n - 1] == '>') {
			memmove(t, t + 1, n - 2);
			t[n - 2] = 0;
		}
		if (strncasecmp(t, "sip:", 4) && strncasecmp(t, "sips:", 5) &&
		    strncasecmp(t, "tel:", 4))
			e = sip_json__fail(&c, "transfer_to must start with sip:, sips: or tel:");
		else if (strpbrk(t, "\r\n<> "))
			e = sip_json__fail(&c, "transfer_to is not a valid URI");
	}
	e = e ? e : sip_json__check_headers(&out->headers, err, err_len);
	if (e)
		sip_json_transfer_req_free(out);
	return e;
}
