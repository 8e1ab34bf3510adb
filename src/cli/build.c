/* The client command table and its request builders: flags and files -> the Twirp request
 * JSON of each RPC. Pure (no I/O but the loader it is given), so unit tests drive it. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/compat.h"
#include "base/err.h"
#include "cli/cmd.h"
#include "cli/print.h"

/* ---- helpers ---- */

SB_PRINTF(2, 3) static int bad(struct cli_build *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return SB_EINVAL;
}

static int nomem(struct cli_build *b)
{
	snprintf(b->err, sizeof(b->err), "out of memory");
	return SB_ENOMEM;
}

/* "a, b,,c" -> ["a","b","c"] */
static json_t *csv_list(const char *csv)
{
	json_t *arr = json_array();
	const char *p = csv;
	while (arr && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		size_t len = n;
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (len && json_array_append_new(arr, json_stringn(s, len))) {
			json_decref(arr);
			return NULL;
		}
		p += n + (e ? 1 : 0);
	}
	return arr;
}

/* proto name -> JSON name ("allowed_numbers" -> "allowedNumbers"); the server reads both. */
static void camel(const char *snake, char *out, size_t cap)
{
	size_t j = 0;
	bool up = false;
	for (const char *p = snake; *p && j + 1 < cap; p++) {
		if (*p == '_') {
			up = true;
			continue;
		}
		out[j++] = up ? (char)toupper((unsigned char)*p) : *p;
		up = false;
	}
	out[j] = 0;
}

/* o[key] = v (stolen); the camelCase spelling a file may carry goes. */
static int put(struct cli_build *b, json_t *o, const char *key, json_t *v)
{
	char c[64];
	camel(key, c, sizeof(c));
	if (strcmp(c, key))
		json_object_del(o, c);
	if (!v || json_object_set_new(o, key, v))
		return nomem(b);
	return 0;
}

static int put_str(struct cli_build *b, json_t *o, const char *key, const char *v)
{
	return v ? put(b, o, key, json_string(v)) : 0;
}

static int put_list(struct cli_build *b, json_t *o, const char *key, const char *csv)
{
	return csv ? put(b, o, key, csv_list(csv)) : 0;
}

static int put_true(struct cli_build *b, json_t *o, const char *key, bool set)
{
	return set ? put(b, o, key, json_true()) : 0;
}

/* The id: the first positional argument or --id. */
static int take_id(struct cli_build *b, const char **id, size_t *next)
{
	const char *flag = cli_arg(b->a, "id");
	*next = 0;
	if (flag && *flag) {
		*id = flag;
		return 0;
	}
	if (!b->a->n_pos || !*b->a->pos[0])
		return bad(b, "an ID is required");
	*id = b->a->pos[0];
	*next = 1;
	return 0;
}

static int need(struct cli_build *b, const char *flag)
{
	const char *v = cli_arg(b->a, flag);
	return v && *v ? 0 : bad(b, "--%s is required", flag);
}

/* "30", "30s", "1.5s", "500ms", "2m", "1h" -> protobuf JSON duration ("30s", "0.500s"). */
int cli_duration(const char *text, char *out, size_t cap)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || v < 0 || !isdigit((unsigned char)text[0]))
		return SB_EINVAL;
	double scale;
	if (!*end || !strcmp(end, "s"))
		scale = 1000;
	else if (!strcmp(end, "ms"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60000;
	else if (!strcmp(end, "h"))
		scale = 3600000;
	else
		return SB_EINVAL;
	double ms = v * scale;
	if (ms > 1e12)
		return SB_EINVAL;
	uint64_t m = (uint64_t)(ms + 0.5);
	if (m % 1000)
		snprintf(out, cap, "%" PRIu64 ".%03" PRIu64 "s", m / 1000, m % 1000);
	else
		snprintf(out, cap, "%" PRIu64 "s", m / 1000);
	return 0;
}

static int put_duration(struct cli_build *b, json_t *o, const char *key, const char *flag)
{
	const char *v = cli_arg(b->a, flag);
	char d[48];
	if (!v)
		return 0;
	if (cli_duration(v, d, sizeof(d)))
		return bad(b, "--%s: bad duration '%s' (want e.g. 30s, 500ms, 2m)", flag, v);
	return put(b, o, key, json_string(d));
}

/* ---- trunk and rule bodies ---- */

enum field_kind { F_STR, F_LIST, F_TRANSPORT };

/* A flag that sets one field of a trunk or rule. */
struct field {
	const char *flag, *key;
	enum field_kind kind;
};

static const struct field inbound_fields[] = {
    {"name", "name", F_STR},
    {"metadata", "metadata", F_STR},
    {"numbers", "numbers", F_LIST},
    {"allowed-addresses", "allowed_addresses", F_LIST},
    {"allowed-numbers", "allowed_numbers", F_LIST},
    {"auth-user", "auth_username", F_STR},
    {"auth-pass", "auth_password", F_STR},
};

static const struct field outbound_fields[] = {
    {"name", "name", F_STR},
    {"metadata", "metadata", F_STR},
    {"address", "address", F_STR},
    {"transport", "transport", F_TRANSPORT},
    {"numbers", "numbers", F_LIST},
    {"auth-user", "auth_username", F_STR},
    {"auth-pass", "auth_password", F_STR},
};

static const struct field rule_fields[] = {
    {"name", "name", F_STR},
    {"metadata", "metadata", F_STR},
    {"trunks", "trunk_ids", F_LIST},
};

/* "udp" -> "SIP_TRANSPORT_UDP"; NULL when unknown. */
static const char *transport_name(const char *v)
{
	static const char *const names[][2] = {{"auto", "SIP_TRANSPORT_AUTO"},
					       {"udp", "SIP_TRANSPORT_UDP"},
					       {"tcp", "SIP_TRANSPORT_TCP"},
					       {"tls", "SIP_TRANSPORT_TLS"}};
	for (size_t i = 0; i < SB_ARRAY_LEN(names); i++)
		if (!strcasecmp(v, names[i][0]) || !strcmp(v, names[i][1]))
			return names[i][1];
	return NULL;
}

/* The fields flags give, into o; as_update: lists as ListUpdate {"set": [...]}. */
static int put_fields(struct cli_build *b, json_t *o, const struct field *f, size_t n,
		      bool as_update)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = cli_arg(b->a, f[i].flag);
		if (!v)
			continue;
		int rc = 0;
		if (f[i].kind == F_STR) {
			rc = put_str(b, o, f[i].key, v);
		} else if (f[i].kind == F_TRANSPORT) {
			const char *t = transport_name(v);
			rc = t ? put_str(b, o, f[i].key, t)
			       : bad(b, "--transport: want udp, tcp, tls or auto, not '%s'", v);
		} else if (as_update) {
			json_t *l = csv_list(v);
			rc = put(b, o, f[i].key, l ? json_pack("{s:o}", "set", l) : NULL);
		} else {
			rc = put_list(b, o, f[i].key, v);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static bool any_field(const struct cli_args *a, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cli_arg_has(a, f[i].flag))
			return true;
	return false;
}

/* The object of FILE: a bare trunk/rule, or a whole request whose only member is wrap_key
 * (or its camelCase spelling), which is unwrapped. *out is a new reference. */
static int load_body(struct cli_build *b, const char *path, const char *wrap_key, json_t **out)
{
	json_t *f = NULL;
	char c[64];
	if (!b->load)
		return bad(b, "cannot read files here");
	int rc = b->load(path, &f, b->err, sizeof(b->err));
	if (rc)
		return rc;
	if (!json_is_object(f)) {
		json_decref(f);
		return bad(b, "%s: not a JSON object", path);
	}
	camel(wrap_key, c, sizeof(c));
	json_t *inner = json_object_get(f, wrap_key);
	if (!inner)
		inner = json_object_get(f, c);
	if (inner && json_object_size(f) == 1 && json_is_object(inner)) {
		json_incref(inner);
		json_decref(f);
		f = inner;
	}
	*out = f;
	return 0;
}

/* A new empty object, or the file's object when path is given. */
static int body_start(struct cli_build *b, const char *path, const char *wrap_key, json_t **out)
{
	if (path)
		return load_body(b, path, wrap_key, out);
	*out = json_object();
	return *out ? 0 : nomem(b);
}

/* The rule flags -> a SIPDispatchRule object; *rule stays NULL when none is given. */
static int rule_from_flags(struct cli_build *b, json_t **rule)
{
	const char *direct = cli_arg(b->a, "direct"), *indiv = cli_arg(b->a, "individual");
	const char *room = cli_arg(b->a, "room"), *prefix = cli_arg(b->a, "room-prefix");
	const char *pin = cli_arg(b->a, "pin");
	*rule = NULL;
	if (direct && indiv)
		return bad(b, "--direct and --individual exclude each other");
	if ((direct && *direct && room) || (indiv && *indiv && prefix))
		return bad(b, "give the room or prefix once");
	room = direct && *direct ? direct : room;
	prefix = indiv && *indiv ? indiv : prefix;
	if (room && prefix)
		return bad(b, "--room (direct) and --room-prefix (individual) exclude each other");
	if (direct && !room)
		return bad(b, "--direct needs --room ROOM");
	if (indiv && room)
		return bad(b, "--individual takes --room-prefix, not --room");
	if (!room && !prefix && !indiv) {
		return pin ? bad(b, "--pin needs --room or --individual") : 0;
	}
	json_t *m = room ? json_pack("{s:s}", "room_name", room)
			 : json_pack("{s:s}", "room_prefix", prefix ? prefix : "");
	if (!m || (pin && json_object_set_new(m, "pin", json_string(pin)))) {
		json_decref(m);
		return nomem(b);
	}
	*rule = json_pack("{s:o}", room ? "dispatch_rule_direct" : "dispatch_rule_individual", m);
	return *rule ? 0 : nomem(b);
}

static int put_rule(struct cli_build *b, json_t *o, bool required)
{
	json_t *rule;
	int rc = rule_from_flags(b, &rule);
	if (rc)
		return rc;
	if (!rule)
		return required ? bad(b, "a rule is needed: --room ROOM (direct) or --individual "
					 "[--room-prefix P]")
				: 0;
	return put(b, o, "rule", rule);
}

/* ---- SIP builders ---- */

struct body_kind {
	const char *wrap; /* the request member holding the object */
	const char *id_key;
	const struct field *fields;
	size_t n_fields;
	bool rule;
};

static const struct body_kind inbound_kind = {"trunk", "sip_trunk_id", inbound_fields,
					      SB_ARRAY_LEN(inbound_fields), false};
static const struct body_kind outbound_kind = {"trunk", "sip_trunk_id", outbound_fields,
					       SB_ARRAY_LEN(outbound_fields), false};
static const struct body_kind rule_kind = {"dispatch_rule", "sip_dispatch_rule_id", rule_fields,
					   SB_ARRAY_LEN(rule_fields), true};

/* FILE (optional) with the flags over it. */
static int body_with_flags(struct cli_build *b, const struct body_kind *k, const char *path,
			   json_t **out)
{
	json_t *o = NULL;
	int rc = body_start(b, path, k->wrap, &o);
	if (rc)
		return rc;
	rc = put_fields(b, o, k->fields, k->n_fields, false);
	if (!rc && k->rule)
		rc = put_rule(b, o, !path);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int build_create(struct cli_build *b, const struct body_kind *k)
{
	json_t *o = NULL;
	const char *path = b->a->n_pos ? b->a->pos[0] : NULL;
	if (!path && !k->rule && !any_field(b->a, k->fields, k->n_fields))
		return bad(b, "give a JSON file or flags");
	int rc = body_with_flags(b, k, path, &o);
	if (rc)
		return rc;
	b->req = json_pack("{s:o}", k->wrap, o);
	return b->req ? 0 : nomem(b);
}

/* Update: FILE -> "replace" (flags over it), flags alone -> "update" (lists as "set"). */
static int build_update(struct cli_build *b, const struct body_kind *k)
{
	const char *id;
	size_t next;
	int rc = take_id(b, &id, &next);
	if (rc)
		return rc;
	const char *path = b->a->n_pos > next ? b->a->pos[next] : NULL;
	if (b->a->n_pos > next + 1)
		return bad(b, "too many arguments");
	json_t *o = NULL;
	if (path) {
		rc = body_with_flags(b, k, path, &o);
	} else {
		bool rule =
		    k->rule && (cli_arg_has(b->a, "room") || cli_arg_has(b->a, "direct") ||
				cli_arg_has(b->a, "individual") ||
				cli_arg_has(b->a, "room-prefix") || cli_arg_has(b->a, "pin"));
		if (!rule && !any_field(b->a, k->fields, k->n_fields))
			return bad(b, "nothing to update: give a JSON file or flags");
		o = json_object();
		rc = o ? put_fields(b, o, k->fields, k->n_fields, true) : nomem(b);
		if (!rc && k->rule)
			rc = put_rule(b, o, false);
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	b->req = json_pack("{s:s,s:o}", k->id_key, id, path ? "replace" : "update", o);
	return b->req ? 0 : nomem(b);
}

static int build_by_id(struct cli_build *b, const char *key)
{
	const char *id;
	size_t next;
	int rc = take_id(b, &id, &next);
	if (rc)
		return rc;
	if (b->a->n_pos > next)
		return bad(b, "too many arguments");
	b->req = json_pack("{s:s}", key, id);
	return b->req ? 0 : nomem(b);
}

static int build_inbound_create(struct cli_build *b)
{
	return build_create(b, &inbound_kind);
}

static int build_outbound_create(struct cli_build *b)
{
	return build_create(b, &outbound_kind);
}

static int build_rule_create(struct cli_build *b)
{
	return build_create(b, &rule_kind);
}

static int build_inbound_update(struct cli_build *b)
{
	return build_update(b, &inbound_kind);
}

static int build_outbound_update(struct cli_build *b)
{
	return build_update(b, &outbound_kind);
}

static int build_rule_update(struct cli_build *b)
{
	return build_update(b, &rule_kind);
}

static int build_trunk_id(struct cli_build *b)
{
	return build_by_id(b, "sip_trunk_id");
}

static int build_rule_id(struct cli_build *b)
{
	return build_by_id(b, "sip_dispatch_rule_id");
}

/* There is no GetSIPDispatchRule: the list filtered by id. */
static int build_rule_get(struct cli_build *b)
{
	const char *id;
	size_t next;
	int rc = take_id(b, &id, &next);
	if (rc)
		return rc;
	if (b->a->n_pos > next)
		return bad(b, "too many arguments");
	b->req = json_pack("{s:[s]}", "dispatch_rule_ids", id);
	return b->req ? 0 : nomem(b);
}

static int build_trunk_list(struct cli_build *b)
{
	b->req = json_object();
	if (!b->req)
		return nomem(b);
	int rc = put_list(b, b->req, "trunk_ids", cli_arg(b->a, "ids"));
	return rc ? rc : put_list(b, b->req, "numbers", cli_arg(b->a, "numbers"));
}

static int build_rule_list(struct cli_build *b)
{
	b->req = json_object();
	if (!b->req)
		return nomem(b);
	int rc = put_list(b, b->req, "dispatch_rule_ids", cli_arg(b->a, "ids"));
	return rc ? rc : put_list(b, b->req, "trunk_ids", cli_arg(b->a, "trunks"));
}

/* ---- participants ---- */

static int build_participant_create(struct cli_build *b)
{
	int rc = need(b, "trunk");
	rc = rc ? rc : need(b, "call");
	rc = rc ? rc : need(b, "room");
	if (rc)
		return rc;
	json_t *o = b->req = json_object();
	if (!o)
		return nomem(b);
	rc = put_str(b, o, "sip_trunk_id", cli_arg(b->a, "trunk"));
	rc = rc ? rc : put_str(b, o, "sip_call_to", cli_arg(b->a, "call"));
	rc = rc ? rc : put_str(b, o, "room_name", cli_arg(b->a, "room"));
	rc = rc ? rc : put_str(b, o, "sip_number", cli_arg(b->a, "number"));
	rc = rc ? rc : put_str(b, o, "participant_identity", cli_arg(b->a, "identity"));
	rc = rc ? rc : put_str(b, o, "participant_name", cli_arg(b->a, "name"));
	rc = rc ? rc : put_str(b, o, "participant_metadata", cli_arg(b->a, "metadata"));
	rc = rc ? rc : put_str(b, o, "dtmf", cli_arg(b->a, "dtmf"));
	rc = rc ? rc : put_true(b, o, "wait_until_answered", cli_arg_has(b->a, "wait"));
	rc = rc ? rc : put_true(b, o, "play_dialtone", cli_arg_has(b->a, "play-dialtone"));
	rc = rc ? rc : put_true(b, o, "hide_phone_number", cli_arg_has(b->a, "hide-phone-number"));
	rc = rc ? rc : put_duration(b, o, "ringing_timeout", "ringing-timeout");
	rc = rc ? rc : put_duration(b, o, "max_call_duration", "max-call-duration");
	b->no_timeout = cli_arg_has(b->a, "wait");
	return rc;
}

static int build_participant_transfer(struct cli_build *b)
{
	int rc = need(b, "room");
	rc = rc ? rc : need(b, "identity");
	rc = rc ? rc : need(b, "to");
	if (rc)
		return rc;
	json_t *o = b->req = json_object();
	if (!o)
		return nomem(b);
	rc = put_str(b, o, "room_name", cli_arg(b->a, "room"));
	rc = rc ? rc : put_str(b, o, "participant_identity", cli_arg(b->a, "identity"));
	rc = rc ? rc : put_str(b, o, "transfer_to", cli_arg(b->a, "to"));
	rc = rc ? rc : put_true(b, o, "play_dialtone", cli_arg_has(b->a, "play-dialtone"));
	rc = rc ? rc : put_duration(b, o, "ringing_timeout", "ringing-timeout");
	b->no_timeout = true; /* answered once the transfer target answers or fails */
	return rc;
}

/* switchboard.Calls: {room, identity} (+ digits). */
static int build_calls(struct cli_build *b, bool digits)
{
	int rc = need(b, "room");
	rc = rc ? rc : need(b, "identity");
	rc = rc ? rc : digits ? need(b, "digits") : 0;
	if (rc)
		return rc;
	b->req = json_pack("{s:s,s:s}", "room", cli_arg(b->a, "room"), "identity",
			   cli_arg(b->a, "identity"));
	if (!b->req)
		return nomem(b);
	return digits ? put_str(b, b->req, "digits", cli_arg(b->a, "digits")) : 0;
}

static int build_hold(struct cli_build *b)
{
	return build_calls(b, false);
}

static int build_dtmf(struct cli_build *b)
{
	return build_calls(b, true);
}

/* ---- rooms ---- */

static int build_room_list(struct cli_build *b)
{
	b->req = json_object();
	if (!b->req)
		return nomem(b);
	if (!b->a->n_pos)
		return 0;
	json_t *names = json_array();
	for (size_t i = 0; names && i < b->a->n_pos; i++) {
		if (json_array_append_new(names, json_string(b->a->pos[i]))) {
			json_decref(names);
			names = NULL;
		}
	}
	return put(b, b->req, "names", names);
}

static int build_room_participants(struct cli_build *b)
{
	b->req = json_pack("{s:s}", "room", b->a->pos[0]);
	return b->req ? 0 : nomem(b);
}

static int build_room_remove(struct cli_build *b)
{
	b->req = json_pack("{s:s,s:s}", "room", b->a->pos[0], "identity", b->a->pos[1]);
	return b->req ? 0 : nomem(b);
}

/* ---- flag tables ---- */

#define F_VAL(n, h)                                                                                \
	{                                                                                          \
		n, CLI_FLAG_VALUE, h                                                               \
	}
#define F_BOOL(n, h)                                                                               \
	{                                                                                          \
		n, CLI_FLAG_BOOL, h                                                                \
	}
#define FLAGS(t) t, SB_ARRAY_LEN(t)
#define NO_FLAGS NULL, 0

#define ID_FLAG F_VAL("id", "--id ID                  (or give the ID as the first argument)")

#define INBOUND_FLAGS                                                                              \
	F_VAL("name", "--name NAME              trunk name"),                                      \
	    F_VAL("metadata", "--metadata TEXT          opaque metadata"),                         \
	    F_VAL("numbers", "--numbers A,B            numbers the trunk answers"),                \
	    F_VAL("allowed-addresses", "--allowed-addresses A,B  source IPs or CIDRs allowed"),    \
	    F_VAL("allowed-numbers", "--allowed-numbers A,B    caller numbers allowed"),           \
	    F_VAL("auth-user", "--auth-user U            digest user callers must use"),           \
	    F_VAL("auth-pass", "--auth-pass P            digest password")

#define OUTBOUND_FLAGS                                                                             \
	F_VAL("name", "--name NAME              trunk name"),                                      \
	    F_VAL("metadata", "--metadata TEXT          opaque metadata"),                         \
	    F_VAL("address", "--address HOST[:PORT]    where calls go (the provider)"),            \
	    F_VAL("transport", "--transport udp|tcp|tls  SIP transport (default auto)"),           \
	    F_VAL("numbers", "--numbers A,B            caller numbers the trunk may use"),         \
	    F_VAL("auth-user", "--auth-user U            digest user for the provider"),           \
	    F_VAL("auth-pass", "--auth-pass P            digest password")

#define RULE_FLAGS                                                                                 \
	F_VAL("name", "--name NAME              rule name"),                                       \
	    F_VAL("metadata", "--metadata TEXT          opaque metadata"),                         \
	    F_VAL("trunks",                                                                        \
		  "--trunks A,B             inbound trunks it applies to (default all)"),          \
	    F_VAL("room", "--room ROOM              direct rule: every call joins ROOM"),          \
	    F_BOOL("direct", "--direct                 a direct rule (with --room)"),              \
	    F_BOOL("individual",                                                                   \
		   "--individual             a room per caller (with --room-prefix)"),             \
	    F_VAL("room-prefix",                                                                   \
		  "--room-prefix P          individual rule: rooms named P_<caller>"),             \
	    F_VAL("pin", "--pin DIGITS             callers enter DIGITS# to join")

static const struct cli_flag inbound_flags[] = {INBOUND_FLAGS};
static const struct cli_flag inbound_update_flags[] = {ID_FLAG, INBOUND_FLAGS};
static const struct cli_flag outbound_flags[] = {OUTBOUND_FLAGS};
static const struct cli_flag outbound_update_flags[] = {ID_FLAG, OUTBOUND_FLAGS};
static const struct cli_flag rule_flags[] = {RULE_FLAGS};
static const struct cli_flag rule_update_flags[] = {ID_FLAG, RULE_FLAGS};

static const struct cli_flag trunk_list_flags[] = {
    F_VAL("ids", "--ids A,B                only these trunks"),
    F_VAL("numbers", "--numbers A,B            only trunks with these numbers"),
};

static const struct cli_flag rule_list_flags[] = {
    F_VAL("ids", "--ids A,B                only these rules"),
    F_VAL("trunks", "--trunks A,B             only rules of these trunks"),
};

static const struct cli_flag id_flags[] = {ID_FLAG};

static const struct cli_flag create_call_flags[] = {
    F_VAL("trunk", "--trunk ID               outbound trunk (required)"),
    F_VAL("call", "--call NUMBER            number or SIP user to call (required)"),
    F_VAL("room", "--room ROOM              room the call joins (required)"),
    F_VAL("number", "--number FROM            caller number (one of the trunk's)"),
    F_VAL("identity", "--identity ID            participant identity"),
    F_VAL("name", "--name NAME              participant name"),
    F_VAL("metadata", "--metadata TEXT          participant metadata"),
    F_VAL("dtmf", "--dtmf DIGITS            digits sent once answered (w = 0.5 s pause)"),
    F_BOOL("wait", "--wait                   answer only when the callee answered"),
    F_VAL("ringing-timeout", "--ringing-timeout 30s    give up ringing after this long"),
    F_VAL("max-call-duration", "--max-call-duration 1h   hang up after this long"),
    F_BOOL("play-dialtone", "--play-dialtone          the room hears a dial tone meanwhile"),
    F_BOOL("hide-phone-number", "--hide-phone-number      keep the number out of attributes"),
};

static const struct cli_flag transfer_flags[] = {
    F_VAL("room", "--room ROOM              the participant's room (required)"),
    F_VAL("identity", "--identity ID            the SIP participant (required)"),
    F_VAL("to", "--to URI                 tel:+1555... or sip:user@host (required)"),
    F_BOOL("play-dialtone", "--play-dialtone          play a dial tone meanwhile"),
    F_VAL("ringing-timeout", "--ringing-timeout 30s    give up after this long"),
};

static const struct cli_flag who_flags[] = {
    F_VAL("room", "--room ROOM              the participant's room (required)"),
    F_VAL("identity", "--identity ID            the SIP participant (required)"),
};

static const struct cli_flag dtmf_flags[] = {
    F_VAL("room", "--room ROOM              the participant's room (required)"),
    F_VAL("identity", "--identity ID            the SIP participant (required)"),
    F_VAL("digits", "--digits D               0-9, *, #, A-D (required)"),
};

/* ---- the table ---- */

#define SIP   "livekit.SIP"
#define ROOM  "livekit.RoomService"
#define CALLS "switchboard.Calls"

static const struct cli_cmd cmds[] = {
    {"sip inbound", "create", SIP, "CreateSIPInboundTrunk", API_PERM_SIP_ADMIN,
     FLAGS(inbound_flags), "[FILE|-] [flags]", 0, 1, build_inbound_create, cli_print_inbound},
    {"sip inbound", "list", SIP, "ListSIPInboundTrunk", API_PERM_SIP_ADMIN, FLAGS(trunk_list_flags),
     "[flags]", 0, 0, build_trunk_list, cli_print_inbound_list},
    {"sip inbound", "get", SIP, "GetSIPInboundTrunk", API_PERM_SIP_ADMIN, FLAGS(id_flags), "ID", 0,
     1, build_trunk_id, cli_print_inbound},
    {"sip inbound", "update", SIP, "UpdateSIPInboundTrunk", API_PERM_SIP_ADMIN,
     FLAGS(inbound_update_flags), "ID [FILE|-] [the flags of create]", 0, 2, build_inbound_update,
     cli_print_inbound},
    {"sip inbound", "delete", SIP, "DeleteSIPTrunk", API_PERM_SIP_ADMIN, FLAGS(id_flags), "ID", 0,
     1, build_trunk_id, cli_print_deleted},
    {"sip outbound", "create", SIP, "CreateSIPOutboundTrunk", API_PERM_SIP_ADMIN,
     FLAGS(outbound_flags), "[FILE|-] [flags]", 0, 1, build_outbound_create, cli_print_outbound},
    {"sip outbound", "list", SIP, "ListSIPOutboundTrunk", API_PERM_SIP_ADMIN,
     FLAGS(trunk_list_flags), "[flags]", 0, 0, build_trunk_list, cli_print_outbound_list},
    {"sip outbound", "get", SIP, "GetSIPOutboundTrunk", API_PERM_SIP_ADMIN, FLAGS(id_flags), "ID",
     0, 1, build_trunk_id, cli_print_outbound},
    {"sip outbound", "update", SIP, "UpdateSIPOutboundTrunk", API_PERM_SIP_ADMIN,
     FLAGS(outbound_update_flags), "ID [FILE|-] [the flags of create]", 0, 2, build_outbound_update,
     cli_print_outbound},
    {"sip outbound", "delete", SIP, "DeleteSIPTrunk", API_PERM_SIP_ADMIN, FLAGS(id_flags), "ID", 0,
     1, build_trunk_id, cli_print_deleted},
    {"sip dispatch", "create", SIP, "CreateSIPDispatchRule", API_PERM_SIP_ADMIN, FLAGS(rule_flags),
     "[FILE|-] [flags]", 0, 1, build_rule_create, cli_print_rule},
    {"sip dispatch", "list", SIP, "ListSIPDispatchRule", API_PERM_SIP_ADMIN, FLAGS(rule_list_flags),
     "[flags]", 0, 0, build_rule_list, cli_print_rule_list},
    {"sip dispatch", "get", SIP, "ListSIPDispatchRule", API_PERM_SIP_ADMIN, FLAGS(id_flags), "ID",
     0, 1, build_rule_get, cli_print_rule_found},
    {"sip dispatch", "update", SIP, "UpdateSIPDispatchRule", API_PERM_SIP_ADMIN,
     FLAGS(rule_update_flags), "ID [FILE|-] [the flags of create]", 0, 2, build_rule_update,
     cli_print_rule},
    {"sip dispatch", "delete", SIP, "DeleteSIPDispatchRule", API_PERM_SIP_ADMIN, FLAGS(id_flags),
     "ID", 0, 1, build_rule_id, cli_print_deleted},
    {"sip participant", "create", SIP, "CreateSIPParticipant", API_PERM_SIP_CALL,
     FLAGS(create_call_flags), "--trunk ID --call NUMBER --room ROOM [flags]", 0, 0,
     build_participant_create, cli_print_sip_participant},
    {"sip participant", "transfer", SIP, "TransferSIPParticipant", API_PERM_SIP_CALL_ROOM_ADMIN,
     FLAGS(transfer_flags), "--room ROOM --identity ID --to URI [--play-dialtone]", 0, 0,
     build_participant_transfer, cli_print_done},
    {"sip participant", "hold", CALLS, "HoldParticipant", API_PERM_ROOM_ADMIN, FLAGS(who_flags),
     "--room ROOM --identity ID", 0, 0, build_hold, cli_print_hold},
    {"sip participant", "resume", CALLS, "ResumeParticipant", API_PERM_ROOM_ADMIN, FLAGS(who_flags),
     "--room ROOM --identity ID", 0, 0, build_hold, cli_print_hold},
    {"sip participant", "dtmf", CALLS, "SendDTMF", API_PERM_ROOM_ADMIN, FLAGS(dtmf_flags),
     "--room ROOM --identity ID --digits D", 0, 0, build_dtmf, cli_print_done},
    {"room", "list", ROOM, "ListRooms", API_PERM_ROOM_LIST, NO_FLAGS, "[NAME...]", 0, CLI_MAX_POS,
     build_room_list, cli_print_rooms},
    {"room", "participants", ROOM, "ListParticipants", API_PERM_ROOM_ADMIN, NO_FLAGS, "ROOM", 1, 1,
     build_room_participants, cli_print_participants},
    {"room", "remove", ROOM, "RemoveParticipant", API_PERM_ROOM_ADMIN, NO_FLAGS, "ROOM IDENTITY", 2,
     2, build_room_remove, cli_print_done},
};

const struct cli_cmd *cli_cmd_find(const char *group, const char *verb)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(cmds); i++)
		if (!strcmp(cmds[i].group, group) && !strcmp(cmds[i].verb, verb))
			return &cmds[i];
	return NULL;
}

/* group matches "sip" too: every "sip X" group. */
static bool in_group(const struct cli_cmd *c, const char *group)
{
	size_t n = strlen(group);
	return !strncmp(c->group, group, n) && (c->group[n] == '\0' || c->group[n] == ' ');
}

bool cli_cmd_group_exists(const char *group)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(cmds); i++)
		if (in_group(&cmds[i], group))
			return true;
	return false;
}

/* Whether a command of c's group before c lists a flag with this help line. */
static bool listed_before(const struct cli_cmd *c, const char *help)
{
	for (const struct cli_cmd *p = cmds; p < c; p++)
		for (size_t j = 0; !strcmp(p->group, c->group) && j < p->n_flags; j++)
			if (!strcmp(p->flags[j].help, help))
				return true;
	return false;
}

void cli_cmd_usage(FILE *f, const char *group)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(cmds); i++) {
		const struct cli_cmd *c = &cmds[i];
		if (!in_group(c, group))
			continue;
		fprintf(f, "  switchboard %s %s %s\n", c->group, c->verb, c->synopsis);
		for (size_t j = 0; j < c->n_flags; j++)
			if (!listed_before(c, c->flags[j].help))
				fprintf(f, "      %s\n", c->flags[j].help);
	}
	fputs(
	    "global options (anywhere): --url URL  --api-key KEY  --api-secret SECRET  --json\n"
	    "  --url: SWITCHBOARD_URL, then LIVEKIT_URL, then http://127.0.0.1:7880\n"
	    "  --api-key/--api-secret: SWITCHBOARD_API_KEY/_SECRET, then LIVEKIT_API_KEY/_SECRET,\n"
	    "  then the server's defaults (devkey / secret)\n"
	    "  --json: print the server's answer as JSON\n",
	    f);
}

int cli_cmd_build(const struct cli_cmd *c, struct cli_build *b)
{
	size_t n = b->a->n_pos;
	b->req = NULL;
	b->no_timeout = false;
	b->err[0] = '\0';
	if (n < c->min_pos)
		return bad(b, "missing arguments: %s", c->synopsis);
	if (n > c->max_pos)
		return bad(b, "unexpected argument '%s'", b->a->pos[c->max_pos]);
	int rc = c->build(b);
	if (rc) {
		json_decref(b->req);
		b->req = NULL;
	}
	return rc;
}
