/* The protobuf-JSON mapping of LiveKit's livekit.SIP trunk and dispatch-rule RPCs: request
 * objects to store records, store records to response objects, and LK's validation rules. */
#ifndef SB_API_SIP_JSON_H
#define SB_API_SIP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Conventions (research/livekit-api.md §1.2, §1.3).
 *
 * Input. Every field is found under its lowerCamelCase JSON name or its snake_case proto name
 * (both at once is an error, as in protojson); `null` means unset; unknown fields are ignored.
 * Enums: the full value name ("SIP_TRANSPORT_TCP") or the number; an unknown name or a number
 * outside the enum is rejected (stricter than protojson's DiscardUnknown, so a typo is not
 * silently read as the default). Durations: "30s", "1.5s", "-0.2s" (negative rejected), kept
 * in milliseconds (sub-millisecond digits are truncated). 32-bit integers as numbers or
 * decimal strings. Strings must not contain NUL. created_at / updated_at are ignored (the
 * store sets them).
 *
 * Errors. Parsers and validators return 0, SB_EINVAL (the request is wrong: answer Twirp
 * invalid_argument with the message) or SB_ENOMEM, and on error write a one-line message to
 * err (err_len bytes, always NUL-terminated when err_len > 0; err may be NULL). Messages name
 * the field by its camelCase JSON path, e.g. `trunk.numbers[1]: must be a string`. On error the
 * output holds nothing to free.
 *
 * Output. Like LK's Twirp server (protojson UseProtoNames + EmitUnpopulated): snake_case
 * keys, every scalar, list and map present ("", false, [], {}, the zero enum's name),
 * enums as names, Timestamps as RFC 3339 UTC ("2024-01-02T03:04:05.678Z"), Durations as
 * "30s" / "1.500s". Where LK would emit `null` (an unset message: a zero Duration or
 * Timestamp, no room_config, no media) the key is left out instead, so there is no null
 * anywhere. Emitters return a new reference, or NULL when out of memory. Record strings
 * that are NULL read as "", and bytes that are not UTF-8 become U+FFFD.
 *
 * SIPMediaConfig (`media`): the store keeps only its encryption (in media_encryption, shared
 * with the deprecated top-level media_encryption; `media.encryption` wins when both are
 * given). Its codecs and media_timeout are validated (§3.3) but not stored. A record with
 * media_encryption != DISABLE is emitted with both media_encryption and
 * media: {only_listed_codecs: false, codecs: [], encryption}.
 *
 * RoomConfiguration (`room_config`) is kept as JSON text: the keys of the object and of each
 * `agents[]` entry are turned into snake_case and null members dropped; everything below is
 * kept verbatim. It is emitted back as that object.
 */

/* ---- Requests ---- */

/* CreateSIPInboundTrunkRequest {trunk}: the trunk, field-validated with
 * sip_json_validate_inbound_trunk. trunk is required; its sip_trunk_id must be empty
 * ("trunk ID must be empty"). out is overwritten (free it with store_inbound_trunk_free). */
int sip_json_parse_create_inbound_trunk(const json_t *req, struct store_inbound_trunk *out,
					char *err, size_t err_len);
/* CreateSIPOutboundTrunkRequest {trunk}; validated with sip_json_validate_outbound_trunk. */
int sip_json_parse_create_outbound_trunk(const json_t *req, struct store_outbound_trunk *out,
					 char *err, size_t err_len);
/* CreateSIPDispatchRuleRequest: `dispatch_rule` (SIPDispatchRuleInfo) when present, as LK's
 * DispatchRuleInfo() does, otherwise the deprecated top-level rule, trunk_ids,
 * hide_phone_number, inbound_numbers, name, metadata, attributes, room_preset, room_config
 * that the node SDK sends. Validated with sip_json_validate_dispatch_rule; the id must be
 * empty ("rule id must not be set"). */
int sip_json_parse_create_dispatch_rule(const json_t *req, struct store_dispatch_rule *out,
					char *err, size_t err_len);

/* {sip_trunk_id} of GetSIPInboundTrunk, GetSIPOutboundTrunk and DeleteSIPTrunk: *id gets a
 * malloc'd copy (free it). A missing or empty id gives "trunk ID is required". */
int sip_json_parse_trunk_id(const json_t *req, char **id, char *err, size_t err_len);
/* {sip_dispatch_rule_id} of DeleteSIPDispatchRule: "dispatch rule ID is required". */
int sip_json_parse_rule_id(const json_t *req, char **id, char *err, size_t err_len);

/* CreateSIPParticipantRequest (§3.7). Either sip_trunk_id or the inline `trunk`
 * (SIPOutboundConfig: hostname, transport, auth_username, auth_password, from_host,
 * destination_country; kept in `inline_trunk` with hostname as its address). Errors as LK:
 * "missing sip trunk id" (neither), "missing sip callee number" / "sip_call_to must not contain
 * '@'", "missing room name", bad header names or values in `headers`. Strings are NULL when
 * absent. */
struct sip_json_participant_req {
	char *trunk_id;
	bool has_inline_trunk;
	struct store_outbound_trunk inline_trunk;
	char *call_to, *number, *room, *identity, *name, *metadata, *dtmf, *display_name;
	struct store_map attributes, headers;
	bool play_dialtone, hide_phone_number, wait_until_answered, has_display_name;
	int64_t ringing_timeout_ms, max_call_duration_ms; /* 0 = unset */
};
int sip_json_parse_create_participant(const json_t *req, struct sip_json_participant_req *out,
				      char *err, size_t err_len);
void sip_json_participant_req_free(struct sip_json_participant_req *r);

/* TransferSIPParticipantRequest (§3.8): participant_identity and room_name required,
 * transfer_to a sip:, sips: or tel: URI (optionally in <>; kept without them), headers (names
 * and values checked), play_dialtone, ringing_timeout (0 = unset). */
struct sip_json_transfer_req {
	char *identity, *room, *transfer_to;
	struct store_map headers;
	bool play_dialtone;
	int64_t ringing_timeout_ms;
};
int sip_json_parse_transfer(const json_t *req, struct sip_json_transfer_req *out, char *err,
			    size_t err_len);
void sip_json_transfer_req_free(struct sip_json_transfer_req *r);

/* ListUpdate {set, add, remove, clear}. Valid: clear alone, set alone, or add and/or remove. */
struct sip_json_list_update {
	bool present; /* the field was in the request */
	bool clear;
	struct store_strv set, add, remove;
};

/* SIPInboundTrunkUpdate. A NULL string or a false has_* means "unchanged". */
struct sip_json_inbound_update {
	struct sip_json_list_update numbers, allowed_addresses, allowed_numbers;
	char *auth_username, *auth_password, *auth_realm, *name, *metadata;
	bool has_media_encryption; /* media_encryption (dep) or media given */
	enum store_media_encryption media_encryption;
};

/* SIPOutboundTrunkUpdate. */
struct sip_json_outbound_update {
	struct sip_json_list_update numbers;
	char *address, *destination_country, *auth_username, *auth_password, *name, *metadata,
	    *from_host;
	bool has_transport;
	enum store_transport transport;
	bool has_media_encryption;
	enum store_media_encryption media_encryption;
};

/* SIPDispatchRuleUpdate. attributes is a diff: an empty value deletes the key. */
struct sip_json_rule_update {
	struct sip_json_list_update trunk_ids;
	bool has_rule;
	struct store_rule rule;
	char *name, *metadata;
	struct store_map attributes;
	bool has_media_encryption;
	enum store_media_encryption media_encryption;
};

/* UpdateSIPInboundTrunkRequest {sip_trunk_id, oneof {replace, update}}. With replace,
 * `replace` is the whole new trunk with id = the request's id (field-validated); otherwise
 * `update` is the change to apply with sip_json_apply_inbound_update. */
struct sip_json_update_inbound_req {
	char *id;
	bool is_replace;
	struct store_inbound_trunk replace;
	struct sip_json_inbound_update update;
};
struct sip_json_update_outbound_req {
	char *id;
	bool is_replace;
	struct store_outbound_trunk replace;
	struct sip_json_outbound_update update;
};
struct sip_json_update_rule_req {
	char *id;
	bool is_replace;
	struct store_dispatch_rule replace;
	struct sip_json_rule_update update;
};

/* Errors: "trunk ID is required" / "dispatch rule ID is required", "only one of replace and
 * update may be set", "replace or update is required", and field errors. out is overwritten;
 * free it with the matching *_free (also fine after an error). */
int sip_json_parse_update_inbound_trunk(const json_t *req, struct sip_json_update_inbound_req *out,
					char *err, size_t err_len);
int sip_json_parse_update_outbound_trunk(const json_t *req,
					 struct sip_json_update_outbound_req *out, char *err,
					 size_t err_len);
int sip_json_parse_update_dispatch_rule(const json_t *req, struct sip_json_update_rule_req *out,
					char *err, size_t err_len);
void sip_json_update_inbound_req_free(struct sip_json_update_inbound_req *r);
void sip_json_update_outbound_req_free(struct sip_json_update_outbound_req *r);
void sip_json_update_rule_req_free(struct sip_json_update_rule_req *r);

/* Apply an update to t (a copy of the current record) in place, LK's order for each list:
 * clear; else set; else remove, then add (skipping values already present). The result is
 * then validated (sip_json_validate_*), so a change that breaks a rule is refused. On error
 * t may be partly changed: discard it. */
int sip_json_apply_inbound_update(struct store_inbound_trunk *t,
				  const struct sip_json_inbound_update *u, char *err,
				  size_t err_len);
int sip_json_apply_outbound_update(struct store_outbound_trunk *t,
				   const struct sip_json_outbound_update *u, char *err,
				   size_t err_len);
int sip_json_apply_rule_update(struct store_dispatch_rule *r, const struct sip_json_rule_update *u,
			       char *err, size_t err_len);

/* ListSIPInboundTrunk / ListSIPOutboundTrunk {page{after_id, limit}, trunk_ids[], numbers[]}
 * and ListSIPDispatchRule {page, dispatch_rule_ids[], trunk_ids[]}. */
struct sip_json_list_req {
	struct store_strv ids; /* trunk_ids (trunk lists) or dispatch_rule_ids (rule list) */
	struct store_strv numbers;
	struct store_strv trunk_ids; /* rule list only */
	char *after_id;		     /* NULL = from the start */
	uint32_t limit;		     /* 0 = all */
};
int sip_json_parse_list_trunks(const json_t *req, struct sip_json_list_req *out, char *err,
			       size_t err_len);
int sip_json_parse_list_rules(const json_t *req, struct sip_json_list_req *out, char *err,
			      size_t err_len);
void sip_json_list_req_free(struct sip_json_list_req *r);
/* The store filter for a parsed list request; f borrows r's strings. */
void sip_json_list_req_filter(const struct sip_json_list_req *r, struct store_filter *f);

/* ---- Validation (LK's rules, §3.4–3.6) ---- */

/* Inbound trunk fields: at least one of (auth_username and auth_password), allowed_addresses
 * or numbers; header names in headers / headers_to_attributes keys / attributes_to_headers
 * values are tokens of at most 255 characters; the names LK forbids in `headers`; no CR, LF
 * or NUL in header values. */
int sip_json_validate_inbound_trunk(const struct store_inbound_trunk *t, char *err, size_t err_len);
/* Outbound trunk fields: address required, not a SIP URI, without '@', ';' or "transport=";
 * numbers non-empty; the same header rules. */
int sip_json_validate_outbound_trunk(const struct store_outbound_trunk *t, char *err,
				     size_t err_len);
/* Dispatch rule fields: a rule is set; a direct rule has a room name; a PIN is at most 16
 * DTMF digits (0-9, *, A-D). */
int sip_json_validate_dispatch_rule(const struct store_dispatch_rule *r, char *err, size_t err_len);

/* Conflicts with the existing records (e.g. the borrowed view of store_inbound_trunks).
 * A record with t's own id is skipped, so the same call serves create and update.
 * Inbound trunks conflict when their normalised numbers overlap (no numbers on both sides
 * also overlaps) and their normalised allowed_numbers overlap (or are empty on both sides):
 * "Conflicting inbound SIP Trunks: ...". Numbers are normalised as LK does: spaces, '-',
 * '(' and ')' removed, '+' prefixed. SB_EINVAL on a conflict. */
int sip_json_check_inbound_conflicts(const struct store_inbound_trunk *t,
				     const struct store_inbound_trunk *existing, size_t n,
				     char *err, size_t err_len);
/* Rules conflict when they share a key (PIN, trunk id, normalised inbound number, normalised
 * number); an empty list stands for the single key "" on that axis. "Dispatch rule for the
 * same trunk, inbound number, number, and PIN combination already exists ...". */
int sip_json_check_rule_conflicts(const struct store_dispatch_rule *r,
				  const struct store_dispatch_rule *existing, size_t n, char *err,
				  size_t err_len);
/* LK's number normalisation into out (out_len bytes, truncated); "" stays "". */
void sip_json_normalize_number(const char *num, char *out, size_t out_len);

/* ---- Responses ---- */

/* SIPInboundTrunkInfo, SIPOutboundTrunkInfo, SIPDispatchRuleInfo (also the
 * DeleteSIPDispatchRule response). */
json_t *sip_json_inbound_trunk(const struct store_inbound_trunk *t);
json_t *sip_json_outbound_trunk(const struct store_outbound_trunk *t);
json_t *sip_json_dispatch_rule(const struct store_dispatch_rule *r);
/* GetSIPInboundTrunkResponse / GetSIPOutboundTrunkResponse: {"trunk": {...}}. */
json_t *sip_json_get_inbound_trunk_response(const struct store_inbound_trunk *t);
json_t *sip_json_get_outbound_trunk_response(const struct store_outbound_trunk *t);
/* List*Response {"items": [...]}. A record whose id is NULL (an unknown id in an id-list
 * query, see store_filter) becomes {}. */
json_t *sip_json_inbound_trunk_list(const struct store_inbound_trunk *v, size_t n);
json_t *sip_json_outbound_trunk_list(const struct store_outbound_trunk *v, size_t n);
json_t *sip_json_dispatch_rule_list(const struct store_dispatch_rule *v, size_t n);
/* DeleteSIPTrunk's response: a SIPTrunkInfo (dep) with only sip_trunk_id filled, as LK. */
json_t *sip_json_delete_trunk_response(const char *id);
/* The SIPTrunkInfo (dep) of a trunk, as LK's AsTrunkInfo: kind TRUNK_INBOUND or
 * TRUNK_OUTBOUND, the first of numbers as outbound_number; ListSIPTrunk's items. */
json_t *sip_json_inbound_trunk_legacy(const struct store_inbound_trunk *t);
json_t *sip_json_outbound_trunk_legacy(const struct store_outbound_trunk *t);

#endif
