/* Printing of the client commands' answers: aligned tables for lists, "Label: value" lines
 * for one trunk, rule or participant, the raw answer with --json. */
#include "cli/print.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/compat.h"

#define MAX_COLS 8
#define CELL_MAX 512

/* ---- values ---- */

/* A JSON value as text: strings as is, arrays joined by ", ", numbers, booleans. */
static void fmt(const json_t *v, char *out, size_t cap)
{
	out[0] = '\0';
	if (json_is_string(v)) {
		snprintf(out, cap, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
	} else if (json_is_array(v)) {
		size_t i, len = 0;
		const json_t *x;
		json_array_foreach(v, i, x)
		{
			char one[CELL_MAX];
			fmt(x, one, sizeof(one));
			int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", one);
			if (n < 0 || (size_t)n >= cap - len)
				break;
			len += (size_t)n;
		}
	}
}

/* "SIP_TRANSPORT_UDP" -> "udp" */
static void fmt_enum(const json_t *v, char *out, size_t cap)
{
	const char *s = json_string_value(v);
	const char *u = s ? strrchr(s, '_') : NULL;
	snprintf(out, cap, "%s", u ? u + 1 : s ? s : "");
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Seconds since 1970 (a number or an int64 string) -> "2024-05-01 12:00:00 UTC"; a
 * timestamp string ("2024-05-01T12:00:00Z") as it is. */
static void fmt_time(const json_t *v, char *out, size_t cap)
{
	const char *str = json_string_value(v);
	char *end = NULL;
	long long s = json_is_integer(v) ? (long long)json_integer_value(v)
		      : str		 ? strtoll(str, &end, 10)
					 : 0;
	struct tm tm;
	time_t t = (time_t)s;
	out[0] = '\0';
	if (str && end && *end)
		snprintf(out, cap, "%s", str);
	else if (s > 0 && gmtime_r(&t, &tm))
		strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The trunk, rule or participant inside wrap (GetSIPInboundTrunk answers {"trunk": {...}}). */
static const json_t *unwrap(const json_t *resp, const char *wrap)
{
	const json_t *in = json_object_get(resp, wrap);
	return json_is_object(in) ? in : resp;
}

/* ---- raw ---- */

static int raw(const struct cli_out *o)
{
	fprintf(o->out, "%s\n", o->raw ? o->raw : "{}");
	return 0;
}

/* ---- tables ---- */

struct table {
	size_t ncols, nrows, cap;
	const char *head[MAX_COLS];
	char **cells; /* nrows * ncols, malloc'd */
};

static void table_init(struct table *t, const char *const *head, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < MAX_COLS ? ncols : MAX_COLS;
	for (size_t i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
}

/* One row of ncols texts (copied); false when out of memory. */
static bool table_add(struct table *t, char row[][CELL_MAX])
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c)
			return false;
		t->cells = c;
		t->cap = cap;
	}
	char **r = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++)
		r[i] = strdup(row[i][0] ? row[i] : "-");
	t->nrows++;
	for (size_t i = 0; i < t->ncols; i++)
		if (!r[i])
			return false;
	return true;
}

static void table_print(FILE *f, const struct table *t)
{
	size_t w[MAX_COLS];
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);
			w[c] = n > w[c] ? n : w[c];
		}
	}
	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->head[c];
			bool last = c + 1 == t->ncols;
			fprintf(f, "%-*s%s", last ? 0 : (int)w[c], s, last ? "\n" : "  ");
		}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

typedef void (*row_fn)(const json_t *item, char row[][CELL_MAX]);

/* resp[key] as a table; "no WHAT" when empty. */
static int print_list(const struct cli_out *o, const json_t *resp, const char *key,
		      const char *const *head, size_t ncols, row_fn fill, const char *what)
{
	if (o->json)
		return raw(o);
	const json_t *items = json_object_get(resp, key);
	if (!json_array_size(items)) {
		fprintf(o->out, "no %s\n", what);
		return 0;
	}
	struct table t;
	table_init(&t, head, ncols);
	size_t i;
	const json_t *x;
	bool ok = true;
	json_array_foreach(items, i, x)
	{
		char row[MAX_COLS][CELL_MAX];
		memset(row, 0, sizeof(row));
		fill(x, row);
		ok = ok && table_add(&t, row);
	}
	if (ok)
		table_print(o->out, &t);
	else
		fprintf(o->err, "error: out of memory\n");
	table_free(&t);
	return ok ? 0 : 1;
}

/* ---- one object as lines ---- */

enum kind { K_STR, K_ENUM, K_TIME };

struct line {
	const char *label, *key;
	enum kind kind;
};

static void print_lines(FILE *f, const json_t *obj, const struct line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char v[CELL_MAX];
		const json_t *x = json_object_get(obj, l[i].key);
		if (l[i].kind == K_ENUM)
			fmt_enum(x, v, sizeof(v));
		else if (l[i].kind == K_TIME)
			fmt_time(x, v, sizeof(v));
		else
			fmt(x, v, sizeof(v));
		if (v[0])
			fprintf(f, "%-18s %s\n", l[i].label, v);
	}
}

/* ---- trunks ---- */

static const struct line inbound_lines[] = {
    {"ID:", "sip_trunk_id", K_STR},
    {"Name:", "name", K_STR},
    {"Numbers:", "numbers", K_STR},
    {"Allowed addresses:", "allowed_addresses", K_STR},
    {"Allowed numbers:", "allowed_numbers", K_STR},
    {"Auth user:", "auth_username", K_STR},
    {"Metadata:", "metadata", K_STR},
    {"Encryption:", "media_encryption", K_ENUM},
    {"Created:", "created_at", K_TIME},
};

static const struct line outbound_lines[] = {
    {"ID:", "sip_trunk_id", K_STR},
    {"Name:", "name", K_STR},
    {"Address:", "address", K_STR},
    {"Transport:", "transport", K_ENUM},
    {"Numbers:", "numbers", K_STR},
    {"Auth user:", "auth_username", K_STR},
    {"Country:", "destination_country", K_STR},
    {"Metadata:", "metadata", K_STR},
    {"Encryption:", "media_encryption", K_ENUM},
    {"Created:", "created_at", K_TIME},
};

int cli_print_inbound(const struct cli_out *o, const json_t *resp)
{
	if (o->json)
		return raw(o);
	print_lines(o->out, unwrap(resp, "trunk"), inbound_lines, SB_ARRAY_LEN(inbound_lines));
	return 0;
}

int cli_print_outbound(const struct cli_out *o, const json_t *resp)
{
	if (o->json)
		return raw(o);
	print_lines(o->out, unwrap(resp, "trunk"), outbound_lines, SB_ARRAY_LEN(outbound_lines));
	return 0;
}

static void auth_cell(const json_t *t, char *out, size_t cap)
{
	const char *u = json_string_value(json_object_get(t, "auth_username"));
	snprintf(out, cap, "%s", u && *u ? u : "");
}

static void inbound_row(const json_t *t, char row[][CELL_MAX])
{
	fmt(json_object_get(t, "sip_trunk_id"), row[0], CELL_MAX);
	fmt(json_object_get(t, "name"), row[1], CELL_MAX);
	fmt(json_object_get(t, "numbers"), row[2], CELL_MAX);
	fmt(json_object_get(t, "allowed_addresses"), row[3], CELL_MAX);
	fmt(json_object_get(t, "allowed_numbers"), row[4], CELL_MAX);
	auth_cell(t, row[5], CELL_MAX);
}

static void outbound_row(const json_t *t, char row[][CELL_MAX])
{
	fmt(json_object_get(t, "sip_trunk_id"), row[0], CELL_MAX);
	fmt(json_object_get(t, "name"), row[1], CELL_MAX);
	fmt(json_object_get(t, "address"), row[2], CELL_MAX);
	fmt_enum(json_object_get(t, "transport"), row[3], CELL_MAX);
	fmt(json_object_get(t, "numbers"), row[4], CELL_MAX);
	auth_cell(t, row[5], CELL_MAX);
}

int cli_print_inbound_list(const struct cli_out *o, const json_t *resp)
{
	static const char *const head[] = {
	    "ID", "NAME", "NUMBERS", "ALLOWED ADDRESSES", "ALLOWED NUMBERS", "AUTH USER"};
	return print_list(o, resp, "items", head, SB_ARRAY_LEN(head), inbound_row,
			  "inbound trunks");
}

int cli_print_outbound_list(const struct cli_out *o, const json_t *resp)
{
	static const char *const head[] = {"ID",	"NAME",	   "ADDRESS",
					   "TRANSPORT", "NUMBERS", "AUTH USER"};
	return print_list(o, resp, "items", head, SB_ARRAY_LEN(head), outbound_row,
			  "outbound trunks");
}

/* ---- dispatch rules ---- */

/* The kind of rule ("direct", "individual", "callee"), its room or prefix and its PIN. */
static void rule_parts(const json_t *r, char *type, char *room, char *pin, size_t cap)
{
	static const char *const kinds[][3] = {
	    {"dispatch_rule_direct", "direct", "room_name"},
	    {"dispatch_rule_individual", "individual", "room_prefix"},
	    {"dispatch_rule_callee", "callee", "room_prefix"},
	};
	const json_t *rule = json_object_get(r, "rule");
	type[0] = room[0] = pin[0] = '\0';
	for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++) {
		const json_t *m = json_object_get(rule, kinds[i][0]);
		if (!json_is_object(m))
			continue;
		snprintf(type, cap, "%s", kinds[i][1]);
		fmt(json_object_get(m, kinds[i][2]), room, cap);
		fmt(json_object_get(m, "pin"), pin, cap);
	}
}

static void rule_row(const json_t *r, char row[][CELL_MAX])
{
	fmt(json_object_get(r, "sip_dispatch_rule_id"), row[0], CELL_MAX);
	fmt(json_object_get(r, "name"), row[1], CELL_MAX);
	fmt(json_object_get(r, "trunk_ids"), row[2], CELL_MAX);
	if (!row[2][0])
		snprintf(row[2], CELL_MAX, "(all)");
	rule_parts(r, row[3], row[4], row[5], CELL_MAX);
}

static void print_rule_lines(FILE *f, const json_t *r)
{
	static const struct line head[] = {{"ID:", "sip_dispatch_rule_id", K_STR},
					   {"Name:", "name", K_STR}};
	static const struct line tail[] = {{"Numbers:", "numbers", K_STR},
					   {"Metadata:", "metadata", K_STR},
					   {"Created:", "created_at", K_TIME}};
	char type[CELL_MAX], room[CELL_MAX], pin[CELL_MAX], trunks[CELL_MAX];
	print_lines(f, r, head, SB_ARRAY_LEN(head));
	rule_parts(r, type, room, pin, CELL_MAX);
	fmt(json_object_get(r, "trunk_ids"), trunks, sizeof(trunks));
	fprintf(f, "%-18s %s\n", "Trunks:", trunks[0] ? trunks : "(all)");
	if (type[0])
		fprintf(f, "%-18s %s\n", "Type:", type);
	if (type[0])
		fprintf(f, "%-18s %s\n", strcmp(type, "direct") ? "Room prefix:" : "Room:", room);
	if (pin[0])
		fprintf(f, "%-18s %s\n", "PIN:", pin);
	print_lines(f, r, tail, SB_ARRAY_LEN(tail));
}

int cli_print_rule(const struct cli_out *o, const json_t *resp)
{
	if (o->json)
		return raw(o);
	print_rule_lines(o->out, unwrap(resp, "dispatch_rule"));
	return 0;
}

int cli_print_rule_list(const struct cli_out *o, const json_t *resp)
{
	static const char *const head[] = {"ID", "NAME", "TRUNKS", "TYPE", "ROOM", "PIN"};
	return print_list(o, resp, "items", head, SB_ARRAY_LEN(head), rule_row, "dispatch rules");
}

int cli_print_rule_found(const struct cli_out *o, const json_t *resp)
{
	const json_t *r = json_array_get(json_object_get(resp, "items"), 0);
	const char *id = json_string_value(json_object_get(r, "sip_dispatch_rule_id"));
	if (!id || !*id) { /* the list answers {} for an id it does not know */
		fprintf(o->err, "error: not_found: requested sip dispatch rule does not exist\n");
		return 1;
	}
	if (o->json) {
		char *s = json_dumps(r, JSON_COMPACT);
		fprintf(o->out, "%s\n", s ? s : "{}");
		free(s);
		return 0;
	}
	print_rule_lines(o->out, r);
	return 0;
}

/* ---- the rest ---- */

/* The ID argument of a delete: --id or the first positional one. */
static const char *arg_id(const struct cli_args *a)
{
	const char *id = cli_arg(a, "id");
	return id && *id ? id : a->n_pos ? a->pos[0] : "";
}

int cli_print_deleted(const struct cli_out *o, const json_t *resp)
{
	(void)resp;
	if (o->json)
		return raw(o);
	fprintf(o->out, "deleted %s\n", arg_id(o->a));
	return 0;
}

int cli_print_sip_participant(const struct cli_out *o, const json_t *resp)
{
	static const struct line lines[] = {
	    {"Participant ID:", "participant_id", K_STR},
	    {"Identity:", "participant_identity", K_STR},
	    {"Room:", "room_name", K_STR},
	    {"SIP call ID:", "sip_call_id", K_STR},
	};
	if (o->json)
		return raw(o);
	print_lines(o->out, resp, lines, SB_ARRAY_LEN(lines));
	return 0;
}

int cli_print_hold(const struct cli_out *o, const json_t *resp)
{
	if (o->json)
		return raw(o);
	const char *s = json_string_value(json_object_get(resp, "hold_status"));
	fprintf(o->out, "hold status: %s\n", s && *s ? s : "unknown");
	return 0;
}

int cli_print_done(const struct cli_out *o, const json_t *resp)
{
	(void)resp;
	if (o->json)
		return raw(o);
	fprintf(o->out, "OK\n");
	return 0;
}

static void room_row(const json_t *r, char row[][CELL_MAX])
{
	fmt(json_object_get(r, "name"), row[0], CELL_MAX);
	fmt(json_object_get(r, "sid"), row[1], CELL_MAX);
	fmt(json_object_get(r, "num_participants"), row[2], CELL_MAX);
	fmt_time(json_object_get(r, "creation_time"), row[3], CELL_MAX);
}

int cli_print_rooms(const struct cli_out *o, const json_t *resp)
{
	static const char *const head[] = {"NAME", "SID", "PARTICIPANTS", "CREATED"};
	return print_list(o, resp, "rooms", head, SB_ARRAY_LEN(head), room_row, "rooms");
}

static void participant_row(const json_t *p, char row[][CELL_MAX])
{
	const json_t *attrs = json_object_get(p, "attributes");
	fmt(json_object_get(p, "identity"), row[0], CELL_MAX);
	fmt(json_object_get(p, "sid"), row[1], CELL_MAX);
	fmt(json_object_get(p, "kind"), row[2], CELL_MAX);
	fmt(json_object_get(p, "state"), row[3], CELL_MAX);
	fmt(json_object_get(p, "name"), row[4], CELL_MAX);
	fmt(json_object_get(attrs, "sip.phoneNumber"), row[5], CELL_MAX);
	fmt(json_object_get(attrs, "sip.callStatus"), row[6], CELL_MAX);
	fmt(json_object_get(attrs, "sip.holdStatus"), row[7], CELL_MAX);
}

int cli_print_participants(const struct cli_out *o, const json_t *resp)
{
	static const char *const head[] = {"IDENTITY", "SID",	"KIND",	  "STATE",
					   "NAME",     "PHONE", "STATUS", "HOLD"};
	return print_list(o, resp, "participants", head, SB_ARRAY_LEN(head), participant_row,
			  "participants");
}
