/* The SQLite backend of the store: DIR/switchboard.db in WAL mode, schema migrations by
 * PRAGMA user_version, and the statements the writer thread runs. Owns the connection. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "store/store_int.h"

/*
 * Migrations, applied in order at open; user_version counts those applied. Append a new
 * entry for every schema change and never edit a released one. Lists and maps of a record
 * live in its *_values table, one row per item in order: key is NULL for a list item.
 */
static const char *const migrations[] = {
    /* 1: trunks, dispatch rules, call records */
    "CREATE TABLE inbound_trunks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " metadata TEXT NOT NULL DEFAULT '',"
    " auth_username TEXT NOT NULL DEFAULT '',"
    " auth_password TEXT NOT NULL DEFAULT '',"
    " auth_realm TEXT NOT NULL DEFAULT '',"
    " include_headers INTEGER NOT NULL DEFAULT 0,"
    " ringing_timeout_ms INTEGER NOT NULL DEFAULT 0,"
    " max_call_duration_ms INTEGER NOT NULL DEFAULT 0,"
    " krisp_enabled INTEGER NOT NULL DEFAULT 0,"
    " media_encryption INTEGER NOT NULL DEFAULT 0,"
    " created_at_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE inbound_trunk_values ("
    " owner TEXT NOT NULL REFERENCES inbound_trunks(id) ON DELETE CASCADE,"
    " field TEXT NOT NULL,"
    " pos INTEGER NOT NULL,"
    " key TEXT,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (owner, field, pos));"
    "CREATE TABLE outbound_trunks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " metadata TEXT NOT NULL DEFAULT '',"
    " address TEXT NOT NULL DEFAULT '',"
    " destination_country TEXT NOT NULL DEFAULT '',"
    " transport INTEGER NOT NULL DEFAULT 0,"
    " auth_username TEXT NOT NULL DEFAULT '',"
    " auth_password TEXT NOT NULL DEFAULT '',"
    " from_host TEXT NOT NULL DEFAULT '',"
    " include_headers INTEGER NOT NULL DEFAULT 0,"
    " media_encryption INTEGER NOT NULL DEFAULT 0,"
    " created_at_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE outbound_trunk_values ("
    " owner TEXT NOT NULL REFERENCES outbound_trunks(id) ON DELETE CASCADE,"
    " field TEXT NOT NULL,"
    " pos INTEGER NOT NULL,"
    " key TEXT,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (owner, field, pos));"
    "CREATE TABLE dispatch_rules ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " rule_kind INTEGER NOT NULL,"
    " room_name TEXT NOT NULL DEFAULT '',"
    " room_prefix TEXT NOT NULL DEFAULT '',"
    " pin TEXT NOT NULL DEFAULT '',"
    " randomize INTEGER NOT NULL DEFAULT 0,"
    " no_randomness INTEGER NOT NULL DEFAULT 0,"
    " hide_phone_number INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL DEFAULT '',"
    " metadata TEXT NOT NULL DEFAULT '',"
    " room_preset TEXT NOT NULL DEFAULT '',"
    " room_config TEXT NOT NULL DEFAULT '',"
    " krisp_enabled INTEGER NOT NULL DEFAULT 0,"
    " media_encryption INTEGER NOT NULL DEFAULT 0,"
    " created_at_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE dispatch_rule_values ("
    " owner TEXT NOT NULL REFERENCES dispatch_rules(id) ON DELETE CASCADE,"
    " field TEXT NOT NULL,"
    " pos INTEGER NOT NULL,"
    " key TEXT,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (owner, field, pos));"
    "CREATE TABLE calls ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " sip_call_id TEXT NOT NULL DEFAULT '',"
    " room_name TEXT NOT NULL DEFAULT '',"
    " participant_identity TEXT NOT NULL DEFAULT '',"
    " direction INTEGER NOT NULL DEFAULT 0,"
    " from_number TEXT NOT NULL DEFAULT '',"
    " to_number TEXT NOT NULL DEFAULT '',"
    " trunk_id TEXT NOT NULL DEFAULT '',"
    " dispatch_rule_id TEXT NOT NULL DEFAULT '',"
    " started_at_ms INTEGER NOT NULL DEFAULT 0,"
    " answered_at_ms INTEGER NOT NULL DEFAULT 0,"
    " ended_at_ms INTEGER NOT NULL DEFAULT 0,"
    " sip_code INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " status INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX calls_by_start ON calls (started_at_ms);"
    "CREATE INDEX calls_by_room ON calls (room_name, started_at_ms);"
    "CREATE INDEX calls_by_sip_call_id ON calls (sip_call_id);"
    "CREATE TABLE call_transfers ("
    " call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
    " pos INTEGER NOT NULL,"
    " at_ms INTEGER NOT NULL DEFAULT 0,"
    " target TEXT NOT NULL DEFAULT '',"
    " sip_code INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (call_id, pos));",
    /* 2: call records are written at every call's end (thousands per second at full call
     * rate): keep one secondary index, by start time, which the room query walks too */
    "DROP INDEX IF EXISTS calls_by_room;"
    "DROP INDEX IF EXISTS calls_by_sip_call_id;",
};

#define CALL_COLS                                                                                  \
	"id, sip_call_id, room_name, participant_identity, direction, from_number, to_number, "    \
	"trunk_id, dispatch_rule_id, started_at_ms, answered_at_ms, ended_at_ms, sip_code, "       \
	"reason, status"
#define CALL_ORDER " ORDER BY started_at_ms DESC, rowid DESC"

/* clang-format off */
#define STMT_MAP(X)                                                                                \
	X(BEGIN, "BEGIN IMMEDIATE")                                                                \
	X(COMMIT, "COMMIT")                                                                        \
	X(ROLLBACK, "ROLLBACK")                                                                    \
	X(SAVEPOINT, "SAVEPOINT op")                                                               \
	X(RELEASE, "RELEASE op")                                                                   \
	X(ROLLBACK_TO, "ROLLBACK TO op")                                                           \
	X(DEL_IN, "DELETE FROM inbound_trunks WHERE id = ?1")                                      \
	X(INS_IN, "INSERT INTO inbound_trunks (id, name, metadata, auth_username, auth_password, " \
		  "auth_realm, include_headers, ringing_timeout_ms, max_call_duration_ms, "        \
		  "krisp_enabled, media_encryption, created_at_ms, updated_at_ms) "                \
		  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")                \
	X(VAL_IN, "INSERT INTO inbound_trunk_values (owner, field, pos, key, value) "              \
		  "VALUES (?1, ?2, ?3, ?4, ?5)")                                                   \
	X(DEL_OUT, "DELETE FROM outbound_trunks WHERE id = ?1")                                    \
	X(INS_OUT, "INSERT INTO outbound_trunks (id, name, metadata, address, "                    \
		   "destination_country, transport, auth_username, auth_password, from_host, "     \
		   "include_headers, media_encryption, created_at_ms, updated_at_ms) "             \
		   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")               \
	X(VAL_OUT, "INSERT INTO outbound_trunk_values (owner, field, pos, key, value) "            \
		   "VALUES (?1, ?2, ?3, ?4, ?5)")                                                  \
	X(DEL_RULE, "DELETE FROM dispatch_rules WHERE id = ?1")                                    \
	X(INS_RULE, "INSERT INTO dispatch_rules (id, rule_kind, room_name, room_prefix, pin, "     \
		    "randomize, no_randomness, hide_phone_number, name, metadata, room_preset, "   \
		    "room_config, krisp_enabled, media_encryption, created_at_ms, updated_at_ms) " \
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)") \
	X(VAL_RULE, "INSERT INTO dispatch_rule_values (owner, field, pos, key, value) "            \
		    "VALUES (?1, ?2, ?3, ?4, ?5)")                                                 \
	X(PUT_CALL, "INSERT INTO calls (" CALL_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "   \
		    "?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (id) DO UPDATE SET "            \
		    "sip_call_id = ?2, room_name = ?3, participant_identity = ?4, direction = ?5, "\
		    "from_number = ?6, to_number = ?7, trunk_id = ?8, dispatch_rule_id = ?9, "     \
		    "started_at_ms = ?10, answered_at_ms = ?11, ended_at_ms = ?12, "               \
		    "sip_code = ?13, reason = ?14, status = ?15")                                  \
	X(DEL_TRANSFERS, "DELETE FROM call_transfers WHERE call_id = ?1")                          \
	X(INS_TRANSFER, "INSERT INTO call_transfers (call_id, pos, at_ms, target, sip_code, "      \
			"reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                 \
	X(ADD_TRANSFER, "INSERT INTO call_transfers (call_id, pos, at_ms, target, sip_code, "      \
			"reason) SELECT id, (SELECT COALESCE(MAX(pos) + 1, 0) FROM "               \
			"call_transfers WHERE call_id = ?1), ?2, ?3, ?4, ?5 FROM calls "           \
			"WHERE id = ?1")                                                           \
	X(GET_CALL, "SELECT " CALL_COLS " FROM calls WHERE id = ?1")                               \
	X(RECENT, "SELECT " CALL_COLS " FROM calls" CALL_ORDER " LIMIT ?1")                        \
	X(ROOM, "SELECT " CALL_COLS " FROM calls WHERE room_name = ?2" CALL_ORDER " LIMIT ?1")     \
	X(TRANSFERS, "SELECT at_ms, target, sip_code, reason FROM call_transfers "                 \
		     "WHERE call_id = ?1 ORDER BY pos")
/* clang-format on */

enum stmt_id {
#define STMT_ENUM(n, sql) ST_##n,
	STMT_MAP(STMT_ENUM)
#undef STMT_ENUM
	    ST__COUNT
};

static const char *const stmt_sql[] = {
#define STMT_SQL(n, sql) sql,
    STMT_MAP(STMT_SQL)
#undef STMT_SQL
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
};

/* The lists and maps of each record type, by their name in the *_values tables. */
struct field {
	const char *name;
	size_t off;
	bool map;
};

static const struct field in_fields[] = {
    {"numbers", offsetof(struct store_inbound_trunk, numbers), false},
    {"allowed_addresses", offsetof(struct store_inbound_trunk, allowed_addresses), false},
    {"allowed_numbers", offsetof(struct store_inbound_trunk, allowed_numbers), false},
    {"headers", offsetof(struct store_inbound_trunk, headers), true},
    {"headers_to_attributes", offsetof(struct store_inbound_trunk, headers_to_attributes), true},
    {"attributes_to_headers", offsetof(struct store_inbound_trunk, attributes_to_headers), true},
};

static const struct field out_fields[] = {
    {"numbers", offsetof(struct store_outbound_trunk, numbers), false},
    {"headers", offsetof(struct store_outbound_trunk, headers), true},
    {"headers_to_attributes", offsetof(struct store_outbound_trunk, headers_to_attributes), true},
    {"attributes_to_headers", offsetof(struct store_outbound_trunk, attributes_to_headers), true},
};

static const struct field rule_fields[] = {
    {"trunk_ids", offsetof(struct store_dispatch_rule, trunk_ids), false},
    {"inbound_numbers", offsetof(struct store_dispatch_rule, inbound_numbers), false},
    {"numbers", offsetof(struct store_dispatch_rule, numbers), false},
    {"attributes", offsetof(struct store_dispatch_rule, attributes), true},
};

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SB_EBUSY;
	case SQLITE_NOMEM:
		return SB_ENOMEM;
	case SQLITE_FULL:
		return SB_ENORES;
	case SQLITE_TOOBIG:
		return SB_ETOOBIG;
	default:
		return SB_EIO;
	}
}

/* Runs a prepared statement that returns no rows, then resets it. */
static int run(struct sq *q, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int err = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		SB_ERROR("store", "sqlite: %s (%s)", sqlite3_errmsg(q->db),
			 sqlite3_sql(st) ? sqlite3_sql(st) : "");
		err = map_rc(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

/* Binding helpers keep the first failure in *rc. */
static void bind_text(sqlite3_stmt *st, int i, const char *s, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(st, i, v);
}

static int bound(struct sq *q, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		return run(q, st);
	SB_ERROR("store", "sqlite: bind: %s", sqlite3_errstr(rc));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return map_rc(rc);
}

static int put_values(struct sq *q, sqlite3_stmt *st, const char *owner, const void *rec,
		      const struct field *fields, size_t n_fields)
{
	int err = 0;
	for (size_t f = 0; f < n_fields && !err; f++) {
		const char *base = (const char *)rec + fields[f].off;
		if (fields[f].map) {
			struct store_map m;
			memcpy(&m, base, sizeof(m));
			for (size_t i = 0; i < m.n && !err; i++) {
				int rc = SQLITE_OK;
				bind_text(st, 1, owner, &rc);
				bind_text(st, 2, fields[f].name, &rc);
				bind_int(st, 3, (int64_t)i, &rc);
				bind_text(st, 4, m.v[i].key, &rc);
				bind_text(st, 5, m.v[i].value, &rc);
				err = bound(q, st, rc);
			}
		} else {
			struct store_strv a;
			memcpy(&a, base, sizeof(a));
			for (size_t i = 0; i < a.n && !err; i++) {
				int rc = SQLITE_OK;
				bind_text(st, 1, owner, &rc);
				bind_text(st, 2, fields[f].name, &rc);
				bind_int(st, 3, (int64_t)i, &rc);
				if (rc == SQLITE_OK)
					rc = sqlite3_bind_null(st, 4);
				bind_text(st, 5, a.v[i], &rc);
				err = bound(q, st, rc);
			}
		}
	}
	return err;
}

static int del_by_id(struct sq *q, enum stmt_id id, const char *key)
{
	int rc = SQLITE_OK;
	bind_text(q->st[id], 1, key, &rc);
	return bound(q, q->st[id], rc);
}

static int put_inbound(struct sq *q, const struct store_inbound_trunk *t)
{
	int err = del_by_id(q, ST_DEL_IN, t->id);
	if (err)
		return err;
	sqlite3_stmt *st = q->st[ST_INS_IN];
	int rc = SQLITE_OK;
	bind_text(st, 1, t->id, &rc);
	bind_text(st, 2, t->name, &rc);
	bind_text(st, 3, t->metadata, &rc);
	bind_text(st, 4, t->auth_username, &rc);
	bind_text(st, 5, t->auth_password, &rc);
	bind_text(st, 6, t->auth_realm, &rc);
	bind_int(st, 7, t->include_headers, &rc);
	bind_int(st, 8, t->ringing_timeout_ms, &rc);
	bind_int(st, 9, t->max_call_duration_ms, &rc);
	bind_int(st, 10, t->krisp_enabled, &rc);
	bind_int(st, 11, t->media_encryption, &rc);
	bind_int(st, 12, t->created_at_ms, &rc);
	bind_int(st, 13, t->updated_at_ms, &rc);
	if ((err = bound(q, st, rc)))
		return err;
	return put_values(q, q->st[ST_VAL_IN], t->id, t, in_fields, SB_ARRAY_LEN(in_fields));
}

static int put_outbound(struct sq *q, const struct store_outbound_trunk *t)
{
	int err = del_by_id(q, ST_DEL_OUT, t->id);
	if (err)
		return err;
	sqlite3_stmt *st = q->st[ST_INS_OUT];
	int rc = SQLITE_OK;
	bind_text(st, 1, t->id, &rc);
	bind_text(st, 2, t->name, &rc);
	bind_text(st, 3, t->metadata, &rc);
	bind_text(st, 4, t->address, &rc);
	bind_text(st, 5, t->destination_country, &rc);
	bind_int(st, 6, t->transport, &rc);
	bind_text(st, 7, t->auth_username, &rc);
	bind_text(st, 8, t->auth_password, &rc);
	bind_text(st, 9, t->from_host, &rc);
	bind_int(st, 10, t->include_headers, &rc);
	bind_int(st, 11, t->media_encryption, &rc);
	bind_int(st, 12, t->created_at_ms, &rc);
	bind_int(st, 13, t->updated_at_ms, &rc);
	if ((err = bound(q, st, rc)))
		return err;
	return put_values(q, q->st[ST_VAL_OUT], t->id, t, out_fields, SB_ARRAY_LEN(out_fields));
}

static int put_rule(struct sq *q, const struct store_dispatch_rule *r)
{
	int err = del_by_id(q, ST_DEL_RULE, r->id);
	if (err)
		return err;
	sqlite3_stmt *st = q->st[ST_INS_RULE];
	int rc = SQLITE_OK;
	bind_text(st, 1, r->id, &rc);
	bind_int(st, 2, r->rule.kind, &rc);
	bind_text(st, 3, r->rule.room_name, &rc);
	bind_text(st, 4, r->rule.room_prefix, &rc);
	bind_text(st, 5, r->rule.pin, &rc);
	bind_int(st, 6, r->rule.randomize, &rc);
	bind_int(st, 7, r->rule.no_randomness, &rc);
	bind_int(st, 8, r->hide_phone_number, &rc);
	bind_text(st, 9, r->name, &rc);
	bind_text(st, 10, r->metadata, &rc);
	bind_text(st, 11, r->room_preset, &rc);
	bind_text(st, 12, r->room_config_json, &rc);
	bind_int(st, 13, r->krisp_enabled, &rc);
	bind_int(st, 14, r->media_encryption, &rc);
	bind_int(st, 15, r->created_at_ms, &rc);
	bind_int(st, 16, r->updated_at_ms, &rc);
	if ((err = bound(q, st, rc)))
		return err;
	return put_values(q, q->st[ST_VAL_RULE], r->id, r, rule_fields, SB_ARRAY_LEN(rule_fields));
}

static int put_transfer(struct sq *q, const char *call_id, int64_t pos,
			const struct store_transfer *t)
{
	sqlite3_stmt *st = q->st[ST_INS_TRANSFER];
	int rc = SQLITE_OK;
	bind_text(st, 1, call_id, &rc);
	bind_int(st, 2, pos, &rc);
	bind_int(st, 3, t->at_ms, &rc);
	bind_text(st, 4, t->target, &rc);
	bind_int(st, 5, t->sip_code, &rc);
	bind_text(st, 6, t->reason, &rc);
	return bound(q, st, rc);
}

static int put_call(struct sq *q, const struct store_call *c)
{
	sqlite3_stmt *st = q->st[ST_PUT_CALL];
	int rc = SQLITE_OK;
	bind_text(st, 1, c->id, &rc);
	bind_text(st, 2, c->sip_call_id, &rc);
	bind_text(st, 3, c->room_name, &rc);
	bind_text(st, 4, c->participant_identity, &rc);
	bind_int(st, 5, c->direction, &rc);
	bind_text(st, 6, c->from_number, &rc);
	bind_text(st, 7, c->to_number, &rc);
	bind_text(st, 8, c->trunk_id, &rc);
	bind_text(st, 9, c->dispatch_rule_id, &rc);
	bind_int(st, 10, c->started_at_ms, &rc);
	bind_int(st, 11, c->answered_at_ms, &rc);
	bind_int(st, 12, c->ended_at_ms, &rc);
	bind_int(st, 13, c->sip_code, &rc);
	bind_text(st, 14, c->reason, &rc);
	bind_int(st, 15, c->status, &rc);
	int err = bound(q, st, rc);
	if (!err)
		err = del_by_id(q, ST_DEL_TRANSFERS, c->id);
	for (size_t i = 0; i < c->n_transfers && !err; i++)
		err = put_transfer(q, c->id, (int64_t)i, &c->transfers[i]);
	return err;
}

static int add_transfer(struct sq *q, const char *call_id, const struct store_transfer *t)
{
	sqlite3_stmt *st = q->st[ST_ADD_TRANSFER];
	int rc = SQLITE_OK;
	bind_text(st, 1, call_id, &rc);
	bind_int(st, 2, t->at_ms, &rc);
	bind_text(st, 3, t->target, &rc);
	bind_int(st, 4, t->sip_code, &rc);
	bind_text(st, 5, t->reason, &rc);
	int err = bound(q, st, rc);
	if (!err && sqlite3_changes(q->db) == 0)
		err = SB_ENOTFOUND;
	return err;
}

/* Column text as a new string ("" for NULL); a failure is kept in *err. */
static char *col_text(sqlite3_stmt *st, int i, int *err)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *s = strdup(t ? (const char *)t : "");
	if (!s)
		*err = SB_ENOMEM;
	return s;
}

static int load_transfers(struct sq *q, struct store_call *c)
{
	sqlite3_stmt *st = q->st[ST_TRANSFERS];
	int rc = SQLITE_OK, err = 0;
	bind_text(st, 1, c->id, &rc);
	if (rc != SQLITE_OK)
		return bound(q, st, rc);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_transfer t = {
		    .at_ms = sqlite3_column_int64(st, 0),
		    .target = col_text(st, 1, &err),
		    .sip_code = sqlite3_column_int(st, 2),
		    .reason = col_text(st, 3, &err),
		};
		if (!err)
			err = store_call_push_transfer(c, &t);
		store_transfer_free(&t);
	}
	if (!err && rc != SQLITE_DONE) {
		SB_ERROR("store", "sqlite: %s", sqlite3_errmsg(q->db));
		err = map_rc(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static int query_calls(struct sq *q, struct store__op *op)
{
	enum stmt_id id = op->kind == STORE__GET_CALL	   ? ST_GET_CALL
			  : op->kind == STORE__LIST_RECENT ? ST_RECENT
							   : ST_ROOM;
	sqlite3_stmt *st = q->st[id];
	int rc = SQLITE_OK, err = 0;
	if (id == ST_GET_CALL) {
		bind_text(st, 1, op->key, &rc);
	} else {
		bind_int(st, 1, op->limit, &rc);
		if (id == ST_ROOM)
			bind_text(st, 2, op->key, &rc);
	}
	if (rc != SQLITE_OK)
		return bound(q, st, rc);
	size_t cap = 0;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (op->n_calls == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct store_call *v = realloc(op->calls, ncap * sizeof(*v));
			if (!v) {
				err = SB_ENOMEM;
				break;
			}
			op->calls = v;
			cap = ncap;
		}
		struct store_call *c = &op->calls[op->n_calls++];
		memset(c, 0, sizeof(*c));
		c->id = col_text(st, 0, &err);
		c->sip_call_id = col_text(st, 1, &err);
		c->room_name = col_text(st, 2, &err);
		c->participant_identity = col_text(st, 3, &err);
		c->direction = (enum store_call_direction)sqlite3_column_int(st, 4);
		c->from_number = col_text(st, 5, &err);
		c->to_number = col_text(st, 6, &err);
		c->trunk_id = col_text(st, 7, &err);
		c->dispatch_rule_id = col_text(st, 8, &err);
		c->started_at_ms = sqlite3_column_int64(st, 9);
		c->answered_at_ms = sqlite3_column_int64(st, 10);
		c->ended_at_ms = sqlite3_column_int64(st, 11);
		c->sip_code = sqlite3_column_int(st, 12);
		c->reason = col_text(st, 13, &err);
		c->status = (enum store_call_status)sqlite3_column_int(st, 14);
	}
	if (!err && rc != SQLITE_DONE) {
		SB_ERROR("store", "sqlite: %s", sqlite3_errmsg(q->db));
		err = map_rc(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* transfers after the rows: one statement steps at a time */
	for (size_t i = 0; i < op->n_calls && !err; i++)
		err = load_transfers(q, &op->calls[i]);
	if (!err && id == ST_GET_CALL && op->n_calls == 0)
		err = SB_ENOTFOUND;
	if (err) {
		store__calls_free(op->calls, op->n_calls);
		op->calls = NULL;
		op->n_calls = 0;
	}
	return err;
}

static int apply_write(struct sq *q, struct store__op *op)
{
	switch (op->kind) {
	case STORE__PUT_INBOUND:
		return put_inbound(q, &op->rec.in);
	case STORE__PUT_OUTBOUND:
		return put_outbound(q, &op->rec.out);
	case STORE__PUT_RULE:
		return put_rule(q, &op->rec.rule);
	case STORE__DEL_INBOUND:
		return del_by_id(q, ST_DEL_IN, op->key);
	case STORE__DEL_OUTBOUND:
		return del_by_id(q, ST_DEL_OUT, op->key);
	case STORE__DEL_RULE:
		return del_by_id(q, ST_DEL_RULE, op->key);
	case STORE__PUT_CALL:
		return put_call(q, &op->rec.call);
	case STORE__ADD_TRANSFER:
		return add_transfer(q, op->key, &op->rec.transfer);
	default:
		return SB_EINVAL;
	}
}

static void sq_apply(void *ctx, struct store__op *op)
{
	struct sq *q = ctx;
	if (!store__op_is_write(op)) {
		op->err = query_calls(q, op);
		return;
	}
	/* a savepoint per write: one failure leaves the rest of the batch in place */
	int err = run(q, q->st[ST_SAVEPOINT]);
	if (!err) {
		err = apply_write(q, op);
		if (err)
			run(q, q->st[ST_ROLLBACK_TO]);
		int rel = run(q, q->st[ST_RELEASE]);
		if (!err)
			err = rel;
	}
	op->err = err;
}

static int sq_begin(void *ctx)
{
	struct sq *q = ctx;
	return run(q, q->st[ST_BEGIN]);
}

static int sq_commit(void *ctx)
{
	struct sq *q = ctx;
	return run(q, q->st[ST_COMMIT]);
}

static void sq_rollback(void *ctx)
{
	struct sq *q = ctx;
	if (!sqlite3_get_autocommit(q->db))
		run(q, q->st[ST_ROLLBACK]);
}

static void sq_close(void *ctx)
{
	struct sq *q = ctx;
	if (!q)
		return;
	for (size_t i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(q->st[i]);
	if (q->db && sqlite3_close(q->db) != SQLITE_OK)
		SB_ERROR("store", "sqlite: close: %s", sqlite3_errmsg(q->db));
	free(q);
}

/* ---- open, migrate, load ---- */

static int exec(struct sq *q, const char *sql, char *eb, size_t el)
{
	char *msg = NULL;
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		store__errf(eb, el, "store: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return map_rc(rc) == SB_EBUSY ? SB_EBUSY : SB_EIO;
	}
	return 0;
}

static int pragma_text(struct sq *q, const char *sql, char *out, size_t cap, char *eb, size_t el)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(out, cap, "%s", t ? (const char *)t : "");
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			out[0] = '\0';
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		store__errf(eb, el, "store: %s", sqlite3_errmsg(q->db));
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : SB_EIO;
}

static int migrate(struct sq *q, const char *path, char *eb, size_t el)
{
	char v[32];
	int err = pragma_text(q, "PRAGMA user_version", v, sizeof(v), eb, el);
	if (err)
		return err;
	long have = strtol(v, NULL, 10);
	long want = (long)SB_ARRAY_LEN(migrations);
	if (have > want) {
		store__errf(eb, el, "store: %s has schema version %ld, newer than this build's %ld",
			    path, have, want);
		return SB_EUNSUPPORTED;
	}
	for (long i = have; i < want; i++) {
		char set[64];
		snprintf(set, sizeof(set), "PRAGMA user_version = %ld", i + 1);
		if ((err = exec(q, "BEGIN IMMEDIATE", eb, el)))
			return err;
		if ((err = exec(q, migrations[i], eb, el)) || (err = exec(q, set, eb, el)) ||
		    (err = exec(q, "COMMIT", eb, el))) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return err;
		}
		SB_INFO("store", "%s: schema migrated to version %ld", path, i + 1);
	}
	return 0;
}

static int check_dir(const char *dir, char *eb, size_t el)
{
	struct stat sb;
	if (stat(dir, &sb) != 0) {
		int e = errno;
		store__errf(eb, el, "store: data directory %s: %s", dir, strerror(e));
		return e == ENOENT ? SB_ENOTFOUND : SB_EIO;
	}
	if (!S_ISDIR(sb.st_mode)) {
		store__errf(eb, el, "store: data directory %s is not a directory", dir);
		return SB_EINVAL;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		store__errf(eb, el, "store: data directory %s is not writable: %s", dir,
			    strerror(errno));
		return SB_EIO;
	}
	return 0;
}

static int sq_open(void **ctx, const struct store_opts *o, char *eb, size_t el)
{
	int err = check_dir(o->dir, eb, el);
	if (err)
		return err;
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", o->dir, STORE_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		store__errf(eb, el, "store: data directory path too long");
		return SB_EINVAL;
	}
	struct sq *q = calloc(1, sizeof(*q));
	if (!q)
		return SB_ENOMEM;
	err = SB_EIO;
	int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		store__errf(eb, el, "store: cannot open %s: %s", path,
			    q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_db_readonly(q->db, "main") == 1) {
		store__errf(eb, el, "store: %s is read-only", path);
		goto fail;
	}
	sqlite3_busy_timeout(q->db, (int)o->busy_timeout_ms);
	char mode[32];
	if ((err = pragma_text(q, "PRAGMA journal_mode = WAL", mode, sizeof(mode), eb, el))) {
		/* the first read of the file: "file is not a database" shows here */
		store__errf(eb, el, "store: cannot open %s: %s", path, sqlite3_errmsg(q->db));
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		err = SB_EIO;
		store__errf(eb, el, "store: %s: cannot switch to WAL mode (got \"%s\")", path,
			    mode);
		goto fail;
	}
	/* WAL checkpoints every 8000 pages (32 MB at 4 kB) rather than 1000: fewer copies back
	 * into the database file while call records stream in */
	if ((err = exec(q,
			"PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
			"PRAGMA wal_autocheckpoint = 8000",
			eb, el)))
		goto fail;
	if ((err = migrate(q, path, eb, el)))
		goto fail;
	for (size_t i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&q->st[i], NULL);
		if (rc != SQLITE_OK) {
			err = SB_EIO;
			store__errf(eb, el, "store: %s: %s", path, sqlite3_errmsg(q->db));
			goto fail;
		}
	}
	*ctx = q;
	return 0;
fail:
	sq_close(q);
	return err;
}

/* Appends one zeroed record of size sz to *v (count *n, capacity *cap). */
static void *grow(void **v, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *nv = realloc(*v, ncap * sz);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = ncap;
	}
	void *r = (char *)*v + (*n)++ * sz;
	memset(r, 0, sz);
	return r;
}

static int prepare(struct sq *q, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		SB_ERROR("store", "sqlite: %s", sqlite3_errmsg(q->db));
		return SB_EIO;
	}
	return 0;
}

static int step_end(struct sq *q, sqlite3_stmt *st, int rc, int err)
{
	if (!err && rc != SQLITE_DONE) {
		SB_ERROR("store", "sqlite: %s", sqlite3_errmsg(q->db));
		err = map_rc(rc);
	}
	sqlite3_finalize(st);
	return err;
}

/* Reads table_values into the records of v (n of them, size sz, sorted by id). */
static int load_values(struct sq *q, const char *table, void *v, size_t n, size_t sz,
		       const struct field *fields, size_t n_fields)
{
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SELECT owner, field, key, value FROM %s ORDER BY owner, "
		 "field, pos",
		 table);
	sqlite3_stmt *st;
	int err = prepare(q, sql, &st);
	if (err)
		return err;
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *owner = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *key = (const char *)sqlite3_column_text(st, 2);
		const char *value = (const char *)sqlite3_column_text(st, 3);
		if (!owner || !name)
			continue;
		size_t lo = 0, hi = n;
		char *rec = NULL;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			char *r = (char *)v + mid * sz, *id;
			memcpy(&id, r, sizeof(id));
			int c = strcmp(id, owner);
			if (c == 0) {
				rec = r;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t f = 0; rec && f < n_fields; f++) {
			if (strcmp(fields[f].name, name) != 0)
				continue;
			/* fields[f].off is the offset of a container inside an aligned record */
			void *c = rec + fields[f].off;
			if (fields[f].map)
				err = store_map_set(c, key ? key : "", value ? value : "");
			else
				err = store_strv_push(c, value ? value : "");
			break;
		}
	}
	return step_end(q, st, rc, err);
}

static int load_inbound(struct sq *q, struct store__snapshot *out)
{
	sqlite3_stmt *st;
	int err = prepare(q,
			  "SELECT id, name, metadata, auth_username, auth_password, auth_realm, "
			  "include_headers, ringing_timeout_ms, max_call_duration_ms, "
			  "krisp_enabled, media_encryption, created_at_ms, updated_at_ms "
			  "FROM inbound_trunks ORDER BY id",
			  &st);
	if (err)
		return err;
	size_t cap = 0;
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *v = out->in;
		struct store_inbound_trunk *t = grow(&v, &out->n_in, &cap, sizeof(*t));
		out->in = v;
		if (!t) {
			err = SB_ENOMEM;
			break;
		}
		t->id = col_text(st, 0, &err);
		t->name = col_text(st, 1, &err);
		t->metadata = col_text(st, 2, &err);
		t->auth_username = col_text(st, 3, &err);
		t->auth_password = col_text(st, 4, &err);
		t->auth_realm = col_text(st, 5, &err);
		t->include_headers = (enum store_header_options)sqlite3_column_int(st, 6);
		t->ringing_timeout_ms = sqlite3_column_int64(st, 7);
		t->max_call_duration_ms = sqlite3_column_int64(st, 8);
		t->krisp_enabled = sqlite3_column_int(st, 9) != 0;
		t->media_encryption = (enum store_media_encryption)sqlite3_column_int(st, 10);
		t->created_at_ms = sqlite3_column_int64(st, 11);
		t->updated_at_ms = sqlite3_column_int64(st, 12);
	}
	if ((err = step_end(q, st, rc, err)))
		return err;
	return load_values(q, "inbound_trunk_values", out->in, out->n_in, sizeof(*out->in),
			   in_fields, SB_ARRAY_LEN(in_fields));
}

static int load_outbound(struct sq *q, struct store__snapshot *out)
{
	sqlite3_stmt *st;
	int err = prepare(q,
			  "SELECT id, name, metadata, address, destination_country, transport, "
			  "auth_username, auth_password, from_host, include_headers, "
			  "media_encryption, created_at_ms, updated_at_ms "
			  "FROM outbound_trunks ORDER BY id",
			  &st);
	if (err)
		return err;
	size_t cap = 0;
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *v = out->out;
		struct store_outbound_trunk *t = grow(&v, &out->n_out, &cap, sizeof(*t));
		out->out = v;
		if (!t) {
			err = SB_ENOMEM;
			break;
		}
		t->id = col_text(st, 0, &err);
		t->name = col_text(st, 1, &err);
		t->metadata = col_text(st, 2, &err);
		t->address = col_text(st, 3, &err);
		t->destination_country = col_text(st, 4, &err);
		t->transport = (enum store_transport)sqlite3_column_int(st, 5);
		t->auth_username = col_text(st, 6, &err);
		t->auth_password = col_text(st, 7, &err);
		t->from_host = col_text(st, 8, &err);
		t->include_headers = (enum store_header_options)sqlite3_column_int(st, 9);
		t->media_encryption = (enum store_media_encryption)sqlite3_column_int(st, 10);
		t->created_at_ms = sqlite3_column_int64(st, 11);
		t->updated_at_ms = sqlite3_column_int64(st, 12);
	}
	if ((err = step_end(q, st, rc, err)))
		return err;
	return load_values(q, "outbound_trunk_values", out->out, out->n_out, sizeof(*out->out),
			   out_fields, SB_ARRAY_LEN(out_fields));
}

static int load_rules(struct sq *q, struct store__snapshot *out)
{
	sqlite3_stmt *st;
	int err = prepare(q,
			  "SELECT id, rule_kind, room_name, room_prefix, pin, randomize, "
			  "no_randomness, hide_phone_number, name, metadata, room_preset, "
			  "room_config, krisp_enabled, media_encryption, created_at_ms, "
			  "updated_at_ms FROM dispatch_rules ORDER BY id",
			  &st);
	if (err)
		return err;
	size_t cap = 0;
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *v = out->rules;
		struct store_dispatch_rule *r = grow(&v, &out->n_rules, &cap, sizeof(*r));
		out->rules = v;
		if (!r) {
			err = SB_ENOMEM;
			break;
		}
		r->id = col_text(st, 0, &err);
		r->rule.kind = (enum store_rule_kind)sqlite3_column_int(st, 1);
		r->rule.room_name = col_text(st, 2, &err);
		r->rule.room_prefix = col_text(st, 3, &err);
		r->rule.pin = col_text(st, 4, &err);
		r->rule.randomize = sqlite3_column_int(st, 5) != 0;
		r->rule.no_randomness = sqlite3_column_int(st, 6) != 0;
		r->hide_phone_number = sqlite3_column_int(st, 7) != 0;
		r->name = col_text(st, 8, &err);
		r->metadata = col_text(st, 9, &err);
		r->room_preset = col_text(st, 10, &err);
		r->room_config_json = col_text(st, 11, &err);
		r->krisp_enabled = sqlite3_column_int(st, 12) != 0;
		r->media_encryption = (enum store_media_encryption)sqlite3_column_int(st, 13);
		r->created_at_ms = sqlite3_column_int64(st, 14);
		r->updated_at_ms = sqlite3_column_int64(st, 15);
	}
	if ((err = step_end(q, st, rc, err)))
		return err;
	return load_values(q, "dispatch_rule_values", out->rules, out->n_rules, sizeof(*out->rules),
			   rule_fields, SB_ARRAY_LEN(rule_fields));
}

static int sq_load(void *ctx, struct store__snapshot *out)
{
	struct sq *q = ctx;
	memset(out, 0, sizeof(*out));
	int err = load_inbound(q, out);
	if (!err)
		err = load_outbound(q, out);
	if (!err)
		err = load_rules(q, out);
	if (err)
		store__snapshot_free(out);
	return err;
}

const struct store__backend store__sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .load = sq_load,
    .begin = sq_begin,
    .apply = sq_apply,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .close = sq_close,
};
