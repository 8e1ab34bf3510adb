/* Inbound routing (LiveKit's trunk matching and dispatch-rule selection, research §6.2): pure
 * functions from a call's addresses, numbers and headers plus the store's trunks and rules to a
 * trunk, a rule, a room name and the participant's identity, name, metadata and attributes. */
#ifndef SB_CALL_ROUTE_H
#define SB_CALL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/slice.h"
#include "store/store.h"

#define CALL_ROUTE_NUMBER_MAX 128 /* a normalised number, NUL included */
#define CALL_ROUTE_PIN_MAX    16  /* digits a caller may enter before '#' */
#define CALL_ROUTE_RAND_LEN   12  /* characters of a room's random suffix */
#define CALL_ROUTE_NAME_MAX   128 /* room name, identity, display name (NUL included) */

/* One INVITE header as received (slices borrowed for the call of call_route only). */
struct call_route_hdr {
	struct sb_slice name, value;
};

struct call_route_in {
	const char *src_ip;    /* numeric source address of the INVITE (v4 or v6) */
	const char *from_user; /* calling number (From user) */
	const char *from_host; /* From host (allowed_addresses may name it; sip.hostname) */
	const char *to_user;   /* called number (Request-URI user) */
	const char *call_id;   /* sip.callIDFull */
	const char *call_tag;  /* sip.callTag (the From tag) */
	const char *sid;       /* sip.callID ("SCL_...") */
	const struct call_route_hdr *hdrs;
	size_t n_hdrs;
	/* NULL: no PIN entered (yet); "": the caller entered a bare '#' (no-pin mode); else the
	 * digits entered before '#'. */
	const char *pin;
	/* CALL_ROUTE_RAND_LEN characters for a room's random suffix (tests pass fixed ones). */
	const char *rand;
};

enum call_route_status {
	CALL_ROUTE_OK,	     /* out holds the trunk, rule, room and participant */
	CALL_ROUTE_NEED_PIN, /* the best rule wants a PIN: answer, collect it, route again */
	CALL_ROUTE_NO_TRUNK, /* a trunk that serves the call refused its address or number */
	CALL_ROUTE_NO_RULE,  /* no dispatch rule applies (with the PIN entered, if any) */
	CALL_ROUTE_CONFLICT, /* several trunks claim the called number, or several defaults */
	CALL_ROUTE_NOMEM,
};

/* The final SIP status for a failure: 480 (no trunk, no rule, wrong PIN), 500 (conflicting
 * configuration), 503 (out of memory); 0 for OK and NEED_PIN. */
int call_route_sip_status(enum call_route_status s);
const char *call_route_status_name(enum call_route_status s);

/* An attribute of the participant; both strings malloc'd, owned by the call_route_out. */
struct call_route_attr {
	char *key, *value;
};

/* The rule's room_config (RoomConfiguration), used when the call creates its room. */
#define CALL_ROUTE_AGENTS_MAX 4
struct call_route_room_config {
	bool set;
	uint32_t empty_timeout_s, departure_timeout_s, max_participants; /* 0 = default */
	char *metadata;							 /* NULL = none */
	char agents[CALL_ROUTE_AGENTS_MAX][CALL_ROUTE_NAME_MAX];	 /* agents[].agent_name */
	size_t n_agents;
};

struct call_route_out {
	const struct store_inbound_trunk *trunk; /* borrowed from the input; NULL = no trunk */
	const struct store_dispatch_rule *rule;	 /* borrowed; set for OK and NEED_PIN */
	char room[CALL_ROUTE_NAME_MAX];
	char identity[CALL_ROUTE_NAME_MAX];
	char name[CALL_ROUTE_NAME_MAX];
	char *metadata; /* malloc'd copy of the rule's metadata ("" when none) */
	struct call_route_attr *attrs;
	size_t n_attrs;
	struct call_route_room_config room_config;
	uint32_t max_call_duration_ms; /* the trunk's; 0 = none */
};

/* LiveKit's NormalizeNumber: spaces, '-', '(' and ')' dropped, a '+' put in front when absent;
 * "" stays "". out has out_len bytes (truncated). */
void call_route_normalize_number(const char *num, char *out, size_t out_len);

/* Does ip (numeric, v4 or v6) fall in cidr ("10.0.0.0/8", "2001:db8::/32", or a bare address
 * for an exact match)? An invalid mask or address never matches. */
bool call_route_ip_match(const char *ip, const char *cidr);

/* Trunk matching alone (MatchTrunkDetailed): *out is the trunk (NULL when none serves the call:
 * then only wildcard rules apply). OK, NO_TRUNK (a trunk serving the called number refused
 * the caller's address or number, and no other trunk took the call) or CONFLICT. */
enum call_route_status call_route_trunk(const struct call_route_in *in,
					const struct store_inbound_trunk *trunks, size_t n_trunks,
					const struct store_inbound_trunk **out);

/* Dispatch-rule selection for a trunk (MatchDispatchRuleIter + priorities): *out is the rule.
 * OK, NEED_PIN (the chosen rule has a PIN and in->pin is NULL) or NO_RULE. */
enum call_route_status call_route_rule(const struct call_route_in *in,
				       const struct store_inbound_trunk *trunk,
				       const struct store_dispatch_rule *rules, size_t n_rules,
				       const struct store_dispatch_rule **out);

/* The whole decision: trunk, rule, then (for OK) room name, identity, name, metadata and
 * attributes (the rule's attributes, then sip.*, then header mappings). out is zeroed first
 * and must be released with call_route_out_free whatever the result. */
enum call_route_status call_route(const struct call_route_in *in,
				  const struct store_inbound_trunk *trunks, size_t n_trunks,
				  const struct store_dispatch_rule *rules, size_t n_rules,
				  struct call_route_out *out);
void call_route_out_free(struct call_route_out *out);
/* The value of attribute key in out, or NULL. */
const char *call_route_attr(const struct call_route_out *out, const char *key);

#endif
