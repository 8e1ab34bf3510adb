/* REGISTER client (RFC 3261 §10): keeps one registration to a provider refreshed,
 * answering digest challenges, and removes it (Expires: 0) when freed. */
#ifndef SB_SIP_REG_H
#define SB_SIP_REG_H

#include <stdint.h>

#include "sip/transport.h"
#include "sip/ua.h"

struct sip_reg;

struct sip_reg_opts {
	const char *aor; /* sip:user@registrar[:port] — the address of record and where to send */
	const char *auth_user; /* NULL = the AOR's user */
	const char *auth_password;
	const char *auth_realm; /* NULL = any realm the registrar names */
	uint32_t expires;	/* asked for; the registrar's answer wins (0 = 3600) */
	enum sip_tp_type transport;
	/* Every outcome: status 200 with the granted expiry, or the failure (401/403/408 ...). */
	void (*state)(void *arg, int status, uint32_t expires);
	void *arg;
};

/* Start registering at once. 0, SB_EINVAL (bad AOR), SB_EUNSUPPORTED (not a numeric host
 * or localhost) or SB_ENOMEM. */
int sip_reg_new(struct sip_ua *ua, const struct sip_reg_opts *o, struct sip_reg **out);
/* Send a de-registration (best effort) and free. NULL is fine. */
void sip_reg_free(struct sip_reg *r);

#endif
