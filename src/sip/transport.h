/* SIP transports (RFC 3261 §18): UDP with batched receive, TCP with Content-Length framing,
 * connection reuse and idle timeout, TLS (OpenSSL) over TCP; IPv4 and IPv6.
 * Owns sockets and connections on the control loop; hands parsed messages up. */
#ifndef SB_SIP_TRANSPORT_H
#define SB_SIP_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/slice.h"
#include "sip/msg.h"

enum sip_tp_type { SIP_TP_UDP, SIP_TP_TCP, SIP_TP_TLS };

struct sip_transport;
struct sip_conn; /* a stream connection; refcounted by the transport */

/* Where a message goes or came from. conn is set for streams when known. */
struct sip_dest {
	enum sip_tp_type type;
	struct sockaddr_storage addr;
	struct sip_conn *conn; /* borrowed: valid while the transport keeps it open */
};

struct sip_rx {
	const struct sip_msg *msg;     /* parsed message, valid during the callback only */
	int err;		       /* 0 or SB_EMALFORMED (msg holds what was parsed) */
	struct sip_dest src;	       /* where it came from (reply here for streams) */
	struct sockaddr_storage local; /* the listening/local address it arrived on */
};

struct sip_transport_handlers {
	void (*recv)(struct sip_transport *tp, const struct sip_rx *rx, void *arg);
};

struct sip_transport_opts {
	uv_loop_t *loop;
	const struct sip_transport_handlers *handlers;
	void *arg;
	uint32_t tcp_idle_timeout_ms; /* 0 = default 120000 */
	size_t stream_max_message;    /* 0 = SIP_MAX_MESSAGE */
	const char *tls_cert_file;    /* PEM; NULL = no TLS server */
	const char *tls_key_file;
	const char *tls_ca_file; /* verify peers for outgoing TLS when set */
};

int sip_transport_new(struct sip_transport **out, const struct sip_transport_opts *o);
/* Listen on host:port ("127.0.0.1", "::1", "0.0.0.0"); port 0 picks one (see _local_port). */
int sip_transport_listen(struct sip_transport *tp, enum sip_tp_type type, const char *host,
			 uint16_t port);
/* Port actually bound by the first listener of that type (0 when none). */
uint16_t sip_transport_local_port(const struct sip_transport *tp, enum sip_tp_type type);
/* Local address (for Via/Contact) of the first listener of that type matching the family. */
int sip_transport_local_addr(const struct sip_transport *tp, enum sip_tp_type type, int family,
			     struct sockaddr_storage *out);
/* Send bytes; streams reuse an open connection to the address or open one (bytes queued
 * until connected). 0 or a negative code (the message is dropped). */
int sip_transport_send(struct sip_transport *tp, const struct sip_dest *dst, struct sb_slice bytes);
/* Close everything; cb runs once every handle is closed, then the transport is freed. */
void sip_transport_close(struct sip_transport *tp, void (*cb)(void *arg), void *arg);

/* Counters for metrics and tests. */
struct sip_transport_stats {
	uint64_t rx_msgs, rx_malformed, tx_msgs, tx_errors, conns_open;
};
void sip_transport_stats(const struct sip_transport *tp, struct sip_transport_stats *out);

/* Messages by request method and response code, counted where every message passes: parsed on
 * receipt, and from the start line of what is handed to a socket (retransmissions included).
 * Fixed arrays, nothing allocated per message; on the control loop like the transport. */
#define SIP_COUNT_STATUS_MIN 100
#define SIP_COUNT_STATUS_MAX 699
enum sip_count_dir { SIP_COUNT_RX, SIP_COUNT_TX, SIP_COUNT__DIRS };
struct sip_msg_counters {
	/* [dir][method]; SIP_METHOD_OTHER counts methods outside SIP_METHOD_MAP */
	uint64_t requests[SIP_COUNT__DIRS][SIP_METHOD__COUNT];
	/* [dir][status - SIP_COUNT_STATUS_MIN] */
	uint64_t responses[SIP_COUNT__DIRS][SIP_COUNT_STATUS_MAX - SIP_COUNT_STATUS_MIN + 1];
};
void sip_transport_counters(const struct sip_transport *tp, struct sip_msg_counters *out);
/* Count one message of dir from its bytes' start line ("INVITE sip:..." or "SIP/2.0 200 ...");
 * anything else is not counted. Pure: exposed for the unit tests. */
void sip_msg_counters_add_raw(struct sip_msg_counters *c, enum sip_count_dir dir,
			      struct sb_slice bytes);

/* "1.2.3.4" / "::1" into buf (INET6_ADDRSTRLEN); port via sip_sockaddr_port. */
const char *sip_sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t cap);
uint16_t sip_sockaddr_port(const struct sockaddr_storage *ss);
/* Parse numeric host (IPv4, IPv6 with or without brackets) and port into ss. */
int sip_sockaddr_set(struct sockaddr_storage *ss, struct sb_slice host, uint16_t port);
bool sip_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
bool sip_sockaddr_is_loopback(const struct sockaddr_storage *ss);
const char *sip_tp_name(enum sip_tp_type t);

#endif
