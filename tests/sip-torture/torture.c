/* Torture-message driver: parses one RFC 4475/5118 file as a UDP datagram, runs the UAS checks,
 * prints what a UAS would do and exits 0 when that matches the expectation on the command line.
 *
 * usage: sip_torture FILE EXPECT [policy=registrar] [fact=value ...]
 *   EXPECT: accept | discard | <status code>
 *   facts:  method max_forwards cseq via_count contact_count body_len consumed error_status
 *           ruri_user (unescaped) ruri_host ruri_port ruri_params ruri_scheme
 *           to_user from_user (unescaped) from_display to_display to_tag from_tag
 *           via.N.{host,port,transport,branch,received,rport}
 * contact.N.{uri,params,uri_params,user} ext_hdr (an extension header with exactly that name
 * exists) extra_has (substring of the extra header of the rejection) resp_via_count (Via values in
 * our response) A value "hex:0a0b" is compared as bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sip/build.h"
#include "sip/check.h"
#include "sip/msg.h"
#include "sip/uri.h"

static const enum sip_method gw_methods[] = {
    SIP_METHOD_INVITE,	SIP_METHOD_ACK,	  SIP_METHOD_CANCEL,  SIP_METHOD_BYE,
    SIP_METHOD_OPTIONS, SIP_METHOD_INFO,  SIP_METHOD_REFER,   SIP_METHOD_NOTIFY,
    SIP_METHOD_UPDATE,	SIP_METHOD_PRACK, SIP_METHOD_MESSAGE,
};
static const enum sip_method reg_methods[] = {
    SIP_METHOD_INVITE,	SIP_METHOD_ACK,	  SIP_METHOD_CANCEL,  SIP_METHOD_BYE,
    SIP_METHOD_OPTIONS, SIP_METHOD_INFO,  SIP_METHOD_REFER,   SIP_METHOD_NOTIFY,
    SIP_METHOD_UPDATE,	SIP_METHOD_PRACK, SIP_METHOD_MESSAGE, SIP_METHOD_REGISTER,
};
static const char *const tags[] = {"replaces", "timer", "100rel", "norefersub"};
static const char *const types[] = {"application/sdp", "application/dtmf-relay", "message/sipfrag",
				    "multipart/mixed", "text/plain"};

struct fact {
	char key[64];
	char val[4096];
	size_t vlen;
};

static int failures;

static void got(const char *key, struct sb_slice v, const struct fact *facts, size_t nf)
{
	printf("  %s=" SB_SLICE_FMT "\n", key, SB_SLICE_ARG(v));
	for (size_t i = 0; i < nf; i++) {
		if (strcmp(facts[i].key, key) != 0)
			continue;
		if (v.len != facts[i].vlen || (v.len && memcmp(v.p, facts[i].val, v.len) != 0)) {
			printf("FAIL: %s is '" SB_SLICE_FMT "', expected '%.*s'\n", key,
			       SB_SLICE_ARG(v), (int)facts[i].vlen, facts[i].val);
			failures++;
		}
	}
}

static void got_num(const char *key, unsigned long long n, const struct fact *f, size_t nf)
{
	char tmp[32];
	int l = snprintf(tmp, sizeof(tmp), "%llu", n);
	got(key, sb_slice(tmp, (size_t)l), f, nf);
}

static void got_unesc(const char *key, struct sb_slice v, const struct fact *f, size_t nf)
{
	char tmp[1024];
	int n = sip_unescape(v, tmp, sizeof(tmp));
	if (n < 0)
		got(key, SB_SLICE_LIT("<bad escape>"), f, nf);
	else
		got(key, sb_slice(tmp, (size_t)n), f, nf);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void dump_facts(const struct sip_msg *m, int consumed, const struct fact *f, size_t nf)
{
	char key[64];
	got_num("error_status", (unsigned)m->error_status, f, nf);
	if (consumed > 0)
		got_num("consumed", (unsigned)consumed, f, nf);
	if (m->is_request) {
		got("method", m->method_name, f, nf);
		got("ruri_scheme", m->ruri.scheme_name, f, nf);
		got_unesc("ruri_user", m->ruri.user, f, nf);
		got("ruri_host", m->ruri.host, f, nf);
		got_num("ruri_port", m->ruri.port, f, nf);
		got("ruri_params", m->ruri.params, f, nf);
	}
	if (m->max_forwards >= 0)
		got_num("max_forwards", (unsigned)m->max_forwards, f, nf);
	got_num("cseq", m->cseq.num, f, nf);
	got_num("via_count", sip_hdr_count_values(m, SIP_HDR_VIA), f, nf);
	got_num("contact_count", sip_hdr_count_values(m, SIP_HDR_CONTACT), f, nf);
	got_num("body_len", m->body.len, f, nf);
	got_unesc("to_user", m->to.uri.user, f, nf);
	got_unesc("from_user", m->from.uri.user, f, nf);
	got("to_display", m->to.display, f, nf);
	got("from_display", m->from.display, f, nf);
	got("to_tag", m->to.tag, f, nf);
	got("from_tag", m->from.tag, f, nf);

	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	for (int i = 0; sip_hdr_next_value(m, SIP_HDR_VIA, &it, &v); i++) {
		struct sip_via via;
		if (sip_via_parse(v, &via)) {
			snprintf(key, sizeof(key), "via.%d", i);
			got(key, SB_SLICE_LIT("<malformed>"), f, nf);
			continue;
		}
		snprintf(key, sizeof(key), "via.%d.host", i);
		got(key, via.host, f, nf);
		snprintf(key, sizeof(key), "via.%d.port", i);
		got_num(key, via.port, f, nf);
		snprintf(key, sizeof(key), "via.%d.transport", i);
		got(key, via.transport, f, nf);
		snprintf(key, sizeof(key), "via.%d.branch", i);
		got(key, via.branch, f, nf);
		snprintf(key, sizeof(key), "via.%d.received", i);
		got(key, via.received, f, nf);
	}
	sip_hdr_iter_init(&it);
	for (int i = 0; sip_hdr_next_value(m, SIP_HDR_CONTACT, &it, &v); i++) {
		struct sip_name_addr na;
		if (sip_name_addr_parse(v, &na)) {
			snprintf(key, sizeof(key), "contact.%d", i);
			got(key, SB_SLICE_LIT("<malformed>"), f, nf);
			continue;
		}
		snprintf(key, sizeof(key), "contact.%d.uri", i);
		got(key, na.uri.raw, f, nf);
		snprintf(key, sizeof(key), "contact.%d.params", i);
		got(key, na.params, f, nf);
		snprintf(key, sizeof(key), "contact.%d.uri_params", i);
		got(key, na.uri.params, f, nf);
		snprintf(key, sizeof(key), "contact.%d.user", i);
		got_unesc(key, na.uri.user, f, nf);
	}
	for (size_t i = 0; i < nf; i++) {
		if (strcmp(f[i].key, "ext_hdr") != 0)
			continue;
		bool found = false;
		for (size_t h = 0; h < m->nhdrs; h++)
			if (m->hdrs[h].id == SIP_HDR_OTHER &&
			    sb_slice_eq(m->hdrs[h].name, sb_slice(f[i].val, f[i].vlen)))
				found = true;
		printf("  ext_hdr %.*s: %s\n", (int)f[i].vlen, f[i].val,
		       found ? "present" : "ABSENT");
		if (!found)
			failures++;
	}
}

/* Build our response to a request and check that it parses and echoes every Via in order. */
static void check_response_roundtrip(const struct sip_msg *req, int status, const char *extra,
				     const struct fact *f, size_t nf)
{
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	int err = sip_build_response(&b, req, status, NULL, SB_SLICE_LIT("torturetag"),
				     sb_slice_cstr(extra), SB_SLICE_NULL, SB_SLICE_NULL);
	if (err) {
		printf("FAIL: build_response: %s\n", sb_err_name(err));
		failures++;
		sb_buf_free(&b);
		return;
	}
	struct sip_msg *rsp = malloc(sizeof(*rsp));
	if (!rsp)
		abort();
	int n = sip_msg_parse(rsp, b.p, b.len, SIP_PARSE_DATAGRAM);
	if (n < 0 || rsp->status != status) {
		printf("FAIL: our %d response does not parse (%s):\n%.*s\n", status,
		       rsp->error_reason ? rsp->error_reason : "?", (int)b.len, b.p);
		failures++;
	} else {
		got_num("resp_via_count", sip_hdr_count_values(rsp, SIP_HDR_VIA), f, nf);
		struct sip_hdr_iter a, c;
		struct sb_slice va, vc;
		sip_hdr_iter_init(&a);
		sip_hdr_iter_init(&c);
		while (sip_hdr_next_value(req, SIP_HDR_VIA, &a, &va)) {
			if (!sip_hdr_next_value(rsp, SIP_HDR_VIA, &c, &vc)) {
				printf("FAIL: response lost a Via\n");
				failures++;
				break;
			}
			struct sip_via x, y;
			if (sip_via_parse(va, &x) == 0 &&
			    (sip_via_parse(vc, &y) || !sb_slice_eq(x.branch, y.branch) ||
			     !sb_slice_eq(x.host, y.host))) {
				printf("FAIL: response Via differs: " SB_SLICE_FMT
				       " / " SB_SLICE_FMT "\n",
				       SB_SLICE_ARG(va), SB_SLICE_ARG(vc));
				failures++;
			}
		}
		if (!sb_slice_eq(rsp->call_id, req->call_id)) {
			printf("FAIL: Call-ID not echoed\n");
			failures++;
		}
	}
	free(rsp);
	sb_buf_free(&b);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
			"usage: %s FILE accept|discard|CODE [policy=registrar] [fact=value ...]\n",
			argv[0]);
		return 2;
	}
	static struct fact facts[64];
	size_t nf = 0;
	bool registrar = false;
	for (int i = 3; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || nf == SB_ARRAY_LEN(facts)) {
			fprintf(stderr, "bad argument %s\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "policy=registrar") == 0) {
			registrar = true;
			continue;
		}
		struct fact *f = &facts[nf++];
		snprintf(f->key, sizeof(f->key), "%.*s", (int)(eq - argv[i]), argv[i]);
		const char *val = eq + 1;
		if (strncmp(val, "hex:", 4) == 0) {
			val += 4;
			f->vlen = 0;
			while (val[0] && val[1] && f->vlen < sizeof(f->val)) {
				f->val[f->vlen++] = (char)(hexv(val[0]) * 16 + hexv(val[1]));
				val += 2;
			}
		} else {
			f->vlen = strlen(val);
			if (f->vlen > sizeof(f->val))
				f->vlen = sizeof(f->val);
			memcpy(f->val, val, f->vlen);
		}
	}

	FILE *fp = fopen(argv[1], "rb");
	if (!fp) {
		perror(argv[1]);
		return 2;
	}
	static char buf[70000];
	size_t len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	/* an exact-size heap copy, so ASan catches any read past the datagram */
	char *dgram = malloc(len ? len : 1);
	if (!dgram)
		abort();
	memcpy(dgram, buf, len);

	struct sip_msg *m = malloc(sizeof(*m));
	if (!m)
		abort();
	int n = sip_msg_parse(m, dgram, len, SIP_PARSE_DATAGRAM);

	struct sip_check_policy pol = {
	    .methods = registrar ? reg_methods : gw_methods,
	    .n_methods = registrar ? SB_ARRAY_LEN(reg_methods) : SB_ARRAY_LEN(gw_methods),
	    .supported = tags,
	    .n_supported = SB_ARRAY_LEN(tags),
	    .accept = types,
	    .n_accept = SB_ARRAY_LEN(types),
	    .flags = SIP_CHECK_STRICT_BRANCH | SIP_CHECK_STRICT_DATE |
		     (registrar ? SIP_CHECK_REGISTRAR : 0),
	};
	char outcome[32];
	struct sip_check_result chk;
	memset(&chk, 0, sizeof(chk));
	if (n < 0) {
		/* a malformed response is never answered; a malformed request gets error_status */
		if (!m->is_request || m->error_status == 0)
			snprintf(outcome, sizeof(outcome), "discard");
		else
			snprintf(outcome, sizeof(outcome), "%d", m->error_status);
		printf("parse: %s (%d %s)\n", sb_err_name(n), m->error_status,
		       m->error_reason ? m->error_reason : "");
	} else if (!m->is_request) {
		int err = sip_check_response(m);
		snprintf(outcome, sizeof(outcome), "%s", err ? "discard" : "accept");
		printf("parse: response %d, check %s\n", m->status, err ? "discard" : "ok");
	} else {
		int st = sip_check_request(m, &pol, &chk);
		if (st)
			snprintf(outcome, sizeof(outcome), "%d", st);
		else
			snprintf(outcome, sizeof(outcome), "accept");
		printf("parse: request " SB_SLICE_FMT ", check %d %s%s%s",
		       SB_SLICE_ARG(m->method_name), st, chk.reason ? chk.reason : "",
		       chk.extra_header[0] ? " + " : "", chk.extra_header);
		printf("\n");
	}
	dump_facts(m, n, facts, nf);
	if (n > 0 && m->is_request)
		check_response_roundtrip(m, chk.status ? chk.status : 200, chk.extra_header, facts,
					 nf);
	for (size_t i = 0; i < nf; i++) {
		if (strcmp(facts[i].key, "extra_has") != 0)
			continue;
		if (!memmem(chk.extra_header, strlen(chk.extra_header), facts[i].val,
			    facts[i].vlen)) {
			printf("FAIL: extra header lacks '%.*s'\n", (int)facts[i].vlen,
			       facts[i].val);
			failures++;
		}
	}
	printf("outcome: %s (expected %s)\n", outcome, argv[2]);
	if (strcmp(outcome, argv[2]) != 0)
		failures++;
	free(m);
	free(dgram);
	return failures ? 1 : 0;
}
