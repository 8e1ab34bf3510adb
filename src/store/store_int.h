/* Inside the store module: the queued operation and the backend interface the writer thread
 * drives. A backend (SQLite now, PostgreSQL later) sees only operations, never the loop. */
#ifndef SB_STORE_STORE_INT_H
#define SB_STORE_STORE_INT_H

#include <stddef.h>

#include "base/compat.h"
#include "store/store.h"

enum store__op_kind {
	STORE__PUT_INBOUND,
	STORE__PUT_OUTBOUND,
	STORE__PUT_RULE,
	STORE__DEL_INBOUND,
	STORE__DEL_OUTBOUND,
	STORE__DEL_RULE,
	STORE__PUT_CALL,
	STORE__ADD_TRANSFER,
	STORE__GET_CALL,
	STORE__LIST_RECENT,
	STORE__LIST_ROOM,
};

/* One queued operation. It owns deep copies of everything it carries, so neither thread
 * shares memory with the other while it is in flight. */
struct store__op {
	struct store__op *next;
	enum store__op_kind kind;
	union {
		struct store_inbound_trunk in;
		struct store_outbound_trunk out;
		struct store_dispatch_rule rule;
		struct store_call call;
		struct store_transfer transfer;
	} rec;
	char *key; /* id to delete or get, call id of a transfer, room of LIST_ROOM */
	uint32_t limit;
	store_done_cb done_cb;
	store_calls_cb calls_cb;
	void *arg;
	/* results, written by the writer thread */
	int err;
	struct store_call *calls;
	size_t n_calls;
};

static inline int store__op_is_write(const struct store__op *op)
{
	return op->kind <= STORE__ADD_TRANSFER;
}

const char *store__op_name(enum store__op_kind kind);
void store__op_free(struct store__op *op);

/* Everything the backend holds at open, each array sorted by id. */
struct store__snapshot {
	struct store_inbound_trunk *in;
	size_t n_in;
	struct store_outbound_trunk *out;
	size_t n_out;
	struct store_dispatch_rule *rules;
	size_t n_rules;
};
void store__snapshot_free(struct store__snapshot *snap);

/*
 * A backend. open and load run on the opening thread; begin/apply/commit/rollback and close
 * on the writer thread afterwards, never concurrently. apply runs one operation inside the
 * batch opened by begin and sets op->err (and the query results); a failed write must leave
 * the rest of the batch intact. When commit fails, the store calls rollback and reports the
 * commit's error on every write of the batch.
 */
struct store__backend {
	const char *name;
	int (*open)(void **ctx, const struct store_opts *o, char *errbuf, size_t errlen);
	int (*load)(void *ctx, struct store__snapshot *out);
	int (*begin)(void *ctx);
	void (*apply)(void *ctx, struct store__op *op);
	int (*commit)(void *ctx);
	void (*rollback)(void *ctx);
	void (*close)(void *ctx);
};

extern const struct store__backend store__sqlite;

/* Record helpers shared by the front end and the backends. */
char *store__strdup(const char *s); /* NULL -> "" */
/* Calls: free an array of n calls and the array. */
void store__calls_free(struct store_call *v, size_t n);
/* snprintf into an optional error buffer. */
void store__errf(char *buf, size_t len, const char *fmt, ...) SB_PRINTF(3, 4);

#endif
