/* Digest authentication: the auth-param parser, hashing through OpenSSL EVP, stateless HMAC
 * nonces with a bounded nonce-count table (server) and Authorization building (client). */
#include "sip/digest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/err.h"
#include "base/rand.h"

/* ---- algorithms ---- */

static const char *const alg_names[SIP_DIGEST_ALG__COUNT] = {
    [SIP_DIGEST_MD5] = "MD5",
    [SIP_DIGEST_MD5_SESS] = "MD5-sess",
    [SIP_DIGEST_SHA256] = "SHA-256",
    [SIP_DIGEST_SHA256_SESS] = "SHA-256-sess",
    [SIP_DIGEST_SHA512_256] = "SHA-512-256",
    [SIP_DIGEST_SHA512_256_SESS] = "SHA-512-256-sess",
};

const char *sip_digest_alg_name(enum sip_digest_alg a)
{
	return (unsigned)a < SIP_DIGEST_ALG__COUNT ? alg_names[a] : "?";
}

int sip_digest_alg_from(struct sb_slice name, enum sip_digest_alg *out)
{
	if (!name.len) {
		*out = SIP_DIGEST_MD5;
		return 0;
	}
	for (int i = 0; i < SIP_DIGEST_ALG__COUNT; i++)
		if (sb_slice_eq_cstr_nocase(name, alg_names[i])) {
			*out = (enum sip_digest_alg)i;
			return 0;
		}
	return SB_EUNSUPPORTED;
}

static bool alg_sess(enum sip_digest_alg a)
{
	return a == SIP_DIGEST_MD5_SESS || a == SIP_DIGEST_SHA256_SESS ||
	       a == SIP_DIGEST_SHA512_256_SESS;
}

static const EVP_MD *alg_md(enum sip_digest_alg a)
{
	switch (a) {
	case SIP_DIGEST_MD5:
	case SIP_DIGEST_MD5_SESS:
		return EVP_md5();
	case SIP_DIGEST_SHA256:
	case SIP_DIGEST_SHA256_SESS:
		return EVP_sha256();
	case SIP_DIGEST_SHA512_256:
	case SIP_DIGEST_SHA512_256_SESS:
		return EVP_sha512_256();
	default:
		return NULL;
	}
}

const char *sip_digest_verdict_name(enum sip_digest_verdict v)
{
	switch (v) {
	case SIP_DIGEST_OK:
		return "ok";
	case SIP_DIGEST_STALE:
		return "stale";
	case SIP_DIGEST_FAIL:
		return "fail";
	case SIP_DIGEST_MALFORMED:
		return "malformed";
	}
	return "?";
}

/* ---- parsing ---- */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-.!%*_+`'~", c) != NULL;
}

static bool is_token68(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~+/", c) != NULL;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_lws(struct sb_slice v, size_t i)
{
	while (i < v.len && is_lws(v.p[i]))
		i++;
	return i;
}

static size_t scan_token(struct sb_slice v, size_t i)
{
	while (i < v.len && is_tchar((unsigned char)v.p[i]))
		i++;
	return i;
}

/* A quoted-string starting at v.p[i] == '"'. Sets *val (unescaped into scratch when needed)
 * and returns the index after the closing quote. */
static int scan_quoted(struct sb_slice v, size_t *i, struct sip_digest_params *out,
		       struct sb_slice *val)
{
	size_t s = *i + 1, k = s;
	bool escaped = false;
	while (k < v.len && v.p[k] != '"') {
		unsigned char c = (unsigned char)v.p[k];
		if (c == '\\') {
			escaped = true;
			if (++k >= v.len)
				return SB_EMALFORMED;
			c = (unsigned char)v.p[k];
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return SB_EMALFORMED;
		k++;
	}
	if (k >= v.len)
		return SB_EMALFORMED; /* lone quote */
	if (k - s > SIP_DIGEST_MAX_VALUE)
		return SB_ETOOBIG;
	*i = k + 1;
	if (!escaped) {
		*val = sb_slice(v.p + s, k - s);
		return 0;
	}
	char *d = out->scratch + out->scratch_used;
	size_t n = 0;
	for (size_t j = s; j < k; j++) {
		if (v.p[j] == '\\')
			j++;
		if (out->scratch_used + n >= sizeof(out->scratch))
			return SB_ETOOBIG;
		d[n++] = v.p[j];
	}
	out->scratch_used += n;
	*val = sb_slice(d, n);
	return 0;
}

static int assign(struct sip_digest_params *out, struct sb_slice name, struct sb_slice val,
		  bool quoted)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
#define P(n) {#n, offsetof(struct sip_digest_params, n)}
	    P(realm),	 P(nonce), P(opaque),	P(algorithm), P(qop), P(domain),
	    P(username), P(uri),   P(response), P(cnonce),    P(nc),
#undef P
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!sb_slice_eq_cstr_nocase(name, known[i].name))
			continue;
		struct sb_slice *f = (struct sb_slice *)(void *)((char *)out + known[i].off);
		if (f->p) {
			out->dup_params++;
			return SB_EMALFORMED;
		}
		*f = val.p ? val : sb_slice("", 0);
		if (f == &out->qop)
			out->qop_quoted = quoted;
		return 0;
	}
	if (sb_slice_eq_cstr_nocase(name, "stale"))
		out->stale = sb_slice_eq_cstr_nocase(val, "true");
	else if (sb_slice_eq_cstr_nocase(name, "userhash"))
		out->userhash = sb_slice_eq_cstr_nocase(val, "true");
	return 0;
}

int sip_digest_parse(struct sb_slice v, size_t *off, struct sip_digest_params *out)
{
	memset(out, 0, offsetof(struct sip_digest_params, scratch));
	out->scratch_used = 0;
	size_t i = *off;
	while (i < v.len && (is_lws(v.p[i]) || v.p[i] == ','))
		i++;
	size_t s = i;
	i = scan_token(v, i);
	if (i == s)
		return SB_EMALFORMED;
	out->scheme = sb_slice(v.p + s, i - s);
	if (i < v.len && !is_lws(v.p[i]) && v.p[i] != ',')
		return SB_EMALFORMED;

	unsigned nparams = 0;
	for (;;) {
		i = skip_lws(v, i);
		if (i >= v.len)
			break;
		size_t start = i;
		if (nparams == 0 && !sb_slice_eq_cstr_nocase(out->scheme, "Digest")) {
			/* token68 (e.g. "Basic dXNlcg=="), only right after another scheme */
			size_t k = i;
			while (k < v.len && is_token68((unsigned char)v.p[k]))
				k++;
			size_t e = k;
			while (e < v.len && v.p[e] == '=')
				e++;
			size_t after = skip_lws(v, e);
			if (k > i && (after == v.len || v.p[after] == ',')) {
				nparams++;
				i = after < v.len ? after + 1 : after;
				continue;
			}
		}
		i = scan_token(v, i);
		if (i == start)
			return SB_EMALFORMED;
		struct sb_slice name = sb_slice(v.p + start, i - start);
		i = skip_lws(v, i);
		if (i >= v.len || v.p[i] != '=') {
			/* "..., Digest realm=..": the next challenge begins at start */
			if (nparams > 0 && i < v.len && is_tchar((unsigned char)v.p[i])) {
				*off = start;
				return 0;
			}
			return SB_EMALFORMED;
		}
		i = skip_lws(v, i + 1);
		struct sb_slice val;
		bool quoted = false;
		if (i < v.len && v.p[i] == '"') {
			int err = scan_quoted(v, &i, out, &val);
			if (err)
				return err;
			quoted = true;
		} else {
			size_t vs = i;
			i = scan_token(v, i);
			if (i == vs)
				return SB_EMALFORMED;
			if (i - vs > SIP_DIGEST_MAX_VALUE)
				return SB_ETOOBIG;
			val = sb_slice(v.p + vs, i - vs);
		}
		int err = assign(out, name, val, quoted);
		if (err)
			return err;
		nparams++;
		i = skip_lws(v, i);
		if (i >= v.len)
			break;
		if (v.p[i] != ',')
			return SB_EMALFORMED; /* missing comma */
		i++;
	}
	*off = v.len;
	return 0;
}

bool sip_digest_qop_has(const struct sip_digest_params *p, const char *option)
{
	struct sb_slice q = p->qop;
	size_t i = 0;
	while (i < q.len) {
		while (i < q.len && (is_lws(q.p[i]) || q.p[i] == ','))
			i++;
		size_t s = i;
		while (i < q.len && q.p[i] != ',' && !is_lws(q.p[i]))
			i++;
		if (i > s && sb_slice_eq_cstr_nocase(sb_slice(q.p + s, i - s), option))
			return true;
	}
	return false;
}

/* ---- hashing ---- */

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* hex(H(parts[0] ":" parts[1] ":" ...)) */
static int hash_join(const EVP_MD *md, const struct sb_slice *parts, size_t n, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return SB_ENOMEM;
	int ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].len)
			ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, d, &dl);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return SB_EIO;
	to_hex(d, dl, hex);
	return 0;
}

int sip_digest_compute(enum sip_digest_alg alg, struct sb_slice username, struct sb_slice realm,
		       struct sb_slice password, struct sb_slice method, struct sb_slice uri,
		       struct sb_slice nonce, struct sb_slice nc, struct sb_slice cnonce,
		       struct sb_slice qop, struct sb_slice body, char out[129])
{
	const EVP_MD *md = alg_md(alg);
	if (!md)
		return SB_EINVAL;
	char ha1[129], ha2[129], hb[129];
	int err;
	const struct sb_slice a1[] = {username, realm, password};
	if ((err = hash_join(md, a1, 3, ha1)))
		return err;
	if (alg_sess(alg)) {
		const struct sb_slice s[] = {sb_slice_cstr(ha1), nonce, cnonce};
		if ((err = hash_join(md, s, 3, ha1)))
			return err;
	}
	if (sb_slice_eq_cstr_nocase(qop, "auth-int")) {
		if ((err = hash_join(md, &body, 1, hb)))
			return err;
		const struct sb_slice a2[] = {method, uri, sb_slice_cstr(hb)};
		err = hash_join(md, a2, 3, ha2);
	} else {
		const struct sb_slice a2[] = {method, uri};
		err = hash_join(md, a2, 2, ha2);
	}
	if (err)
		return err;
	if (qop.len) {
		const struct sb_slice r[] = {sb_slice_cstr(ha1), nonce, nc, cnonce, qop,
					     sb_slice_cstr(ha2)};
		err = hash_join(md, r, 6, out);
	} else {
		const struct sb_slice r[] = {sb_slice_cstr(ha1), nonce, sb_slice_cstr(ha2)};
		err = hash_join(md, r, 3, out);
	}
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return err;
}

/* ---- base64url without padding (nonces) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Decodes exactly n*4/3 characters (n a multiple of 3) into n bytes. */
static bool unb64url(struct sb_slice in, unsigned char *out, size_t n)
{
	if (n % 3 || in.len != n / 3 * 4)
		return false;
	for (size_t i = 0, o = 0; i < in.len; i += 4) {
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++) {
			int x = b64val(in.p[i + k]);
			if (x < 0)
				return false;
			v = v << 6 | (uint32_t)x;
		}
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	return true;
}

/* ---- server ---- */

#define NONCE_TS   8
#define NONCE_SALT 8
#define NONCE_MAC  32
#define NONCE_RAW  (NONCE_TS + NONCE_SALT + NONCE_MAC) /* 48 → 64 base64url chars */
#define NONCE_B64  (NONCE_RAW / 3 * 4)

struct nc_slot {
	uint64_t key; /* hash of the nonce, 0 = empty */
	uint64_t expires;
	uint32_t nc;
};

struct sip_digest_server {
	char *realm;
	size_t realm_len;
	unsigned char *secret;
	size_t secret_len;
	uint32_t ttl;
	bool offer_md5;
	bool md5_first;
	bool allow_no_qop;
	char *opaque;
	size_t opaque_len;
	struct nc_slot *slots;
	size_t nslots;
	EVP_MAC *hmac;
};

static char *dupmem(struct sb_slice s)
{
	char *p = malloc(s.len + 1);
	if (p) {
		if (s.len)
			memcpy(p, s.p, s.len);
		p[s.len] = '\0';
	}
	return p;
}

static bool has_ctl(struct sb_slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return true;
	return false;
}

int sip_digest_server_new(struct sip_digest_server **out, const struct sip_digest_server_cfg *cfg)
{
	if (!out || !cfg || !cfg->realm.len || has_ctl(cfg->realm) || has_ctl(cfg->opaque) ||
	    cfg->realm.len > SIP_DIGEST_MAX_VALUE || cfg->opaque.len > SIP_DIGEST_MAX_VALUE ||
	    (cfg->secret && cfg->secret_len < 16))
		return SB_EINVAL;
	struct sip_digest_server *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	int err = SB_ENOMEM;
	s->realm = dupmem(cfg->realm);
	s->realm_len = cfg->realm.len;
	s->opaque = dupmem(cfg->opaque);
	s->opaque_len = cfg->opaque.len;
	s->secret_len = cfg->secret ? cfg->secret_len : 32;
	s->secret = malloc(s->secret_len);
	if (!s->realm || !s->opaque || !s->secret)
		goto fail;
	if (cfg->secret) {
		memcpy(s->secret, cfg->secret, s->secret_len);
	} else if (sb_random_bytes(s->secret, s->secret_len)) {
		err = SB_EIO;
		goto fail;
	}
	s->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!s->hmac) {
		err = SB_EIO;
		goto fail;
	}
	if (cfg->nc_slots) {
		s->slots = calloc(cfg->nc_slots, sizeof(*s->slots));
		if (!s->slots)
			goto fail;
		s->nslots = cfg->nc_slots;
	}
	s->ttl = cfg->nonce_ttl_s ? cfg->nonce_ttl_s : 300;
	s->offer_md5 = cfg->offer_md5;
	s->md5_first = cfg->md5_first;
	s->allow_no_qop = cfg->allow_no_qop;
	*out = s;
	return 0;
fail:
	sip_digest_server_free(s);
	return err;
}

void sip_digest_server_free(struct sip_digest_server *s)
{
	if (!s)
		return;
	if (s->secret)
		OPENSSL_cleanse(s->secret, s->secret_len);
	free(s->secret);
	free(s->realm);
	free(s->opaque);
	free(s->slots);
	EVP_MAC_free(s->hmac);
	free(s);
}

static int nonce_mac(const struct sip_digest_server *s, const unsigned char *ts_salt,
		     struct sb_slice bind, unsigned char mac[NONCE_MAC])
{
	unsigned char len[4] = {(unsigned char)(s->realm_len >> 24),
				(unsigned char)(s->realm_len >> 16),
				(unsigned char)(s->realm_len >> 8), (unsigned char)s->realm_len};
	int ok = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(s->hmac);
	if (ctx) {
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		    OSSL_PARAM_construct_end(),
		};
		size_t outl = 0;
		ok = EVP_MAC_init(ctx, s->secret, s->secret_len, params) &&
		     EVP_MAC_update(ctx, ts_salt, NONCE_TS + NONCE_SALT) &&
		     EVP_MAC_update(ctx, len, sizeof(len)) &&
		     EVP_MAC_update(ctx, (const unsigned char *)s->realm, s->realm_len) &&
		     (!bind.len || EVP_MAC_update(ctx, (const unsigned char *)bind.p, bind.len)) &&
		     EVP_MAC_final(ctx, mac, &outl, NONCE_MAC) && outl == NONCE_MAC;
	}
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : SB_EIO;
}

static int make_nonce(const struct sip_digest_server *s, uint64_t now_s, struct sb_slice bind,
		      char out[NONCE_B64 + 1])
{
	unsigned char raw[NONCE_RAW];
	for (int i = 0; i < NONCE_TS; i++)
		raw[i] = (unsigned char)(now_s >> (56 - 8 * i));
	if (sb_random_bytes(raw + NONCE_TS, NONCE_SALT))
		return SB_EIO;
	int err = nonce_mac(s, raw, bind, raw + NONCE_TS + NONCE_SALT);
	if (err)
		return err;
	b64url(raw, sizeof(raw), out);
	return 0;
}

/* 0 and *ts when the nonce is ours (any age), SB_EAUTH otherwise. */
static int check_nonce(const struct sip_digest_server *s, struct sb_slice nonce,
		       struct sb_slice bind, uint64_t *ts)
{
	unsigned char raw[NONCE_RAW], mac[NONCE_MAC];
	if (!unb64url(nonce, raw, sizeof(raw)))
		return SB_EAUTH;
	if (nonce_mac(s, raw, bind, mac))
		return SB_EAUTH;
	if (CRYPTO_memcmp(mac, raw + NONCE_TS + NONCE_SALT, NONCE_MAC) != 0)
		return SB_EAUTH;
	uint64_t t = 0;
	for (int i = 0; i < NONCE_TS; i++)
		t = t << 8 | raw[i];
	*ts = t;
	return 0;
}

static void put_quoted(struct sb_buf *b, struct sb_slice v)
{
	sb_buf_append_char(b, '"');
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '"' || v.p[i] == '\\')
			sb_buf_append_char(b, '\\');
		sb_buf_append_char(b, v.p[i]);
	}
	sb_buf_append_char(b, '"');
}

static void put_challenge(const struct sip_digest_server *s, enum sip_digest_alg alg,
			  const char *nonce, bool stale, struct sb_buf *out)
{
	sb_buf_append_cstr(out, "Digest realm=");
	put_quoted(out, sb_slice(s->realm, s->realm_len));
	sb_buf_printf(out, ", nonce=\"%s\"", nonce);
	if (s->opaque_len) {
		sb_buf_append_cstr(out, ", opaque=");
		put_quoted(out, sb_slice(s->opaque, s->opaque_len));
	}
	sb_buf_printf(out, ", algorithm=%s, qop=\"auth\"", sip_digest_alg_name(alg));
	if (stale)
		sb_buf_append_cstr(out, ", stale=true");
}

int sip_digest_challenge(struct sip_digest_server *s, enum sip_digest_alg alg, uint64_t now_s,
			 struct sb_slice bind, bool stale, struct sb_buf *out)
{
	if (!s || !out || (unsigned)alg >= SIP_DIGEST_ALG__COUNT)
		return SB_EINVAL;
	char nonce[NONCE_B64 + 1];
	int err = make_nonce(s, now_s, bind, nonce);
	if (err)
		return err;
	put_challenge(s, alg, nonce, stale, out);
	return out->err;
}

int sip_digest_challenge_headers(struct sip_digest_server *s, const char *hdr_name, uint64_t now_s,
				 struct sb_slice bind, bool stale, struct sb_buf *out)
{
	if (!s || !out || !hdr_name)
		return SB_EINVAL;
	char nonce[NONCE_B64 + 1];
	int err = make_nonce(s, now_s, bind, nonce);
	if (err)
		return err;
	enum sip_digest_alg order[2] = {SIP_DIGEST_SHA256, SIP_DIGEST_MD5};
	size_t n = s->offer_md5 ? 2 : 1;
	if (s->offer_md5 && s->md5_first) {
		order[0] = SIP_DIGEST_MD5;
		order[1] = SIP_DIGEST_SHA256;
	}
	for (size_t i = 0; i < n; i++) {
		sb_buf_printf(out, "%s: ", hdr_name);
		put_challenge(s, order[i], nonce, stale, out);
		sb_buf_append_cstr(out, "\r\n");
	}
	return out->err;
}

static bool is_hex8(struct sb_slice nc, uint32_t *val)
{
	if (nc.len != 8)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char c = nc.p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*val = v;
	return true;
}

/* Records nc for the nonce; false when it was already used (replay). */
static bool nc_fresh(struct sip_digest_server *s, struct sb_slice nonce, uint32_t nc, uint64_t ts,
		     uint64_t now_s)
{
	if (!s->nslots)
		return true;
	uint64_t key = sb_hash(nonce.p, nonce.len) | 1;
	struct nc_slot *slot = &s->slots[key % s->nslots];
	if (slot->key == key && slot->expires > now_s) {
		if (nc <= slot->nc)
			return false;
		slot->nc = nc;
		return true;
	}
	/* empty, expired or another nonce: that one's history is lost (bounded table) */
	slot->key = key;
	slot->expires = ts + s->ttl + 1;
	slot->nc = nc;
	return true;
}

enum sip_digest_verdict sip_digest_verify(struct sip_digest_server *s,
					  const struct sip_digest_check *c,
					  struct sip_digest_params *creds)
{
	struct sip_digest_params local;
	struct sip_digest_params *p = creds ? creds : &local;
	size_t off = 0;
	if (!s || !c || !c->lookup)
		return SIP_DIGEST_MALFORMED;
	if (sip_digest_parse(c->credentials, &off, p) || off != c->credentials.len)
		return SIP_DIGEST_MALFORMED;
	if (!sb_slice_eq_cstr_nocase(p->scheme, "Digest"))
		return SIP_DIGEST_MALFORMED;
	if (!p->username.p || !p->realm.p || !p->nonce.p || !p->uri.p || !p->response.p)
		return SIP_DIGEST_MALFORMED;

	enum sip_digest_alg alg;
	if (sip_digest_alg_from(p->algorithm, &alg) || p->userhash)
		return SIP_DIGEST_FAIL;
	uint32_t nc = 0;
	bool has_qop = p->qop.p != NULL;
	if (has_qop) {
		if (!sb_slice_eq_cstr_nocase(p->qop, "auth") &&
		    !sb_slice_eq_cstr_nocase(p->qop, "auth-int"))
			return SIP_DIGEST_FAIL;
		if (!is_hex8(p->nc, &nc) || !p->cnonce.len)
			return SIP_DIGEST_MALFORMED;
	} else if (!s->allow_no_qop) {
		return SIP_DIGEST_FAIL;
	}
	if (alg_sess(alg) && !p->cnonce.len)
		return SIP_DIGEST_MALFORMED;
	size_t hexlen = (size_t)EVP_MD_get_size(alg_md(alg)) * 2;
	if (p->response.len != hexlen)
		return SIP_DIGEST_MALFORMED;
	char given[129];
	for (size_t i = 0; i < hexlen; i++) {
		char ch = p->response.p[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return SIP_DIGEST_MALFORMED;
		given[i] = ch;
	}

	if (!sb_slice_eq(p->realm, sb_slice(s->realm, s->realm_len)))
		return SIP_DIGEST_FAIL;
	if (s->opaque_len && !sb_slice_eq(p->opaque, sb_slice(s->opaque, s->opaque_len)))
		return SIP_DIGEST_FAIL;
	uint64_t ts = 0;
	if (check_nonce(s, p->nonce, c->bind, &ts) || ts > c->now_s + 5)
		return SIP_DIGEST_FAIL;
	if (!sb_slice_eq(p->uri, c->request_uri))
		return SIP_DIGEST_FAIL;

	char pw[256];
	size_t pwlen = 0;
	bool known = c->lookup(c->lookup_arg, p->username, p->realm, pw, sizeof(pw), &pwlen) == 0 &&
		     pwlen <= sizeof(pw);
	if (!known) {
		/* same work for unknown users: no timing difference to probe names with */
		memcpy(pw, "\x01unknown-user\x01", 15);
		pwlen = 15;
	}
	char want[129];
	int err = sip_digest_compute(alg, p->username, p->realm, sb_slice(pw, pwlen), c->method,
				     p->uri, p->nonce, p->nc, p->cnonce,
				     has_qop ? p->qop : SB_SLICE_NULL, c->body, want);
	OPENSSL_cleanse(pw, sizeof(pw));
	bool match = !err && CRYPTO_memcmp(want, given, hexlen) == 0;
	if (!match || !known)
		return SIP_DIGEST_FAIL;
	if (c->now_s > ts && c->now_s - ts > s->ttl)
		return SIP_DIGEST_STALE;
	if (has_qop && !nc_fresh(s, p->nonce, nc, ts, c->now_s))
		return SIP_DIGEST_STALE;
	return SIP_DIGEST_OK;
}

/* ---- client ---- */

void sip_digest_client_init(struct sip_digest_client *c)
{
	memset(c, 0, sizeof(*c));
}

enum take_result { TAKE_OK, TAKE_FOREIGN, TAKE_UNUSABLE };

static int take_one(struct sip_digest_client *c, const struct sip_digest_params *p,
		    struct sb_slice expected_realm, enum take_result *res)
{
	enum sip_digest_alg alg;
	*res = TAKE_UNUSABLE;
	if (!sb_slice_eq_cstr_nocase(p->scheme, "Digest") || !p->nonce.len || !p->realm.p ||
	    sip_digest_alg_from(p->algorithm, &alg))
		return 0;
	bool auth = false, auth_int = false;
	if (p->qop.p) {
		auth = sip_digest_qop_has(p, "auth");
		auth_int = !auth && sip_digest_qop_has(p, "auth-int");
		if (!auth && !auth_int)
			return 0;
	}
	if (expected_realm.len && !sb_slice_eq(p->realm, expected_realm)) {
		*res = TAKE_FOREIGN;
		return 0;
	}
	if (p->realm.len >= sizeof(c->realm) || p->nonce.len >= sizeof(c->nonce) ||
	    p->opaque.len >= sizeof(c->opaque))
		return SB_ETOOBIG;
	if (has_ctl(p->realm) || has_ctl(p->nonce) || has_ctl(p->opaque))
		return SB_EMALFORMED;
	bool same = sb_slice_eq(p->nonce, sb_slice(c->nonce, c->nonce_len));
	if (!same) {
		c->nc = 0;
		c->nonces++;
	}
	c->alg = alg;
	c->qop_auth = auth;
	c->qop_auth_int = auth_int;
	c->stale = p->stale;
	memcpy(c->realm, p->realm.p, p->realm.len);
	c->realm_len = p->realm.len;
	memcpy(c->nonce, p->nonce.p, p->nonce.len);
	c->nonce_len = p->nonce.len;
	c->has_opaque = p->opaque.p != NULL;
	if (p->opaque.len)
		memcpy(c->opaque, p->opaque.p, p->opaque.len);
	c->opaque_len = p->opaque.len;
	*res = TAKE_OK;
	return 0;
}

/* Walks the challenges of one value; 0 with *res, or a parse error. */
static int take_value(struct sip_digest_client *c, struct sb_slice v,
		      struct sb_slice expected_realm, bool *foreign, enum take_result *res)
{
	struct sip_digest_params p;
	size_t off = 0;
	*res = TAKE_UNUSABLE;
	while (skip_lws(v, off) < v.len) {
		int err = sip_digest_parse(v, &off, &p);
		if (err)
			return err;
		err = take_one(c, &p, expected_realm, res);
		if (err)
			return err;
		if (*res == TAKE_OK)
			return 0;
		if (*res == TAKE_FOREIGN)
			*foreign = true;
	}
	return 0;
}

int sip_digest_client_take(struct sip_digest_client *c, struct sb_slice challenge_value,
			   struct sb_slice expected_realm)
{
	bool foreign = false;
	enum take_result res;
	int err = take_value(c, challenge_value, expected_realm, &foreign, &res);
	if (err)
		return err;
	if (res == TAKE_OK)
		return 0;
	return foreign ? SB_EAUTH : SB_EUNSUPPORTED;
}

int sip_digest_client_take_msg(struct sip_digest_client *c, const struct sip_msg *rsp,
			       enum sip_hdr_id id, struct sb_slice expected_realm)
{
	bool foreign = false;
	int last_err = 0;
	for (size_t i = 0; i < rsp->nhdrs; i++) {
		if (rsp->hdrs[i].id != id)
			continue;
		enum take_result res;
		int err = take_value(c, rsp->hdrs[i].value, expected_realm, &foreign, &res);
		if (err) {
			last_err = err; /* a broken header does not hide a good one after it */
			continue;
		}
		if (res == TAKE_OK)
			return 0;
	}
	if (foreign)
		return SB_EAUTH;
	return last_err ? last_err : SB_EUNSUPPORTED;
}

int sip_digest_client_authorize(struct sip_digest_client *c, struct sb_slice username,
				struct sb_slice password, struct sb_slice method,
				struct sb_slice uri, struct sb_slice body, struct sb_buf *out)
{
	if (!c || !out)
		return SB_EINVAL;
	if (!c->nonce_len)
		return SB_ESTATE;
	if (has_ctl(username) || has_ctl(uri) || has_ctl(method) || !method.len || !uri.len ||
	    memchr(password.p ? password.p : "", '\0', password.len))
		return SB_EINVAL;
	/* a quote in uri cannot be escaped in a way every server undoes the same */
	if (memchr(uri.p, '"', uri.len))
		return SB_EINVAL;
	struct sb_slice qop = c->qop_auth	? SB_SLICE_LIT("auth")
			      : c->qop_auth_int ? SB_SLICE_LIT("auth-int")
						: SB_SLICE_NULL;
	bool use_cnonce = qop.len || alg_sess(c->alg);
	char cnonce[17] = "";
	char nc[9] = "";
	if (use_cnonce) {
		sb_random_token(cnonce, 16);
		cnonce[16] = '\0';
	}
	if (qop.len) {
		if (c->nc == UINT32_MAX)
			return SB_ESTATE;
		c->nc++;
		static const char hex[] = "0123456789abcdef";
		for (int i = 0; i < 8; i++)
			nc[i] = hex[(c->nc >> (28 - 4 * i)) & 15];
		nc[8] = '\0';
	}
	char resp[129];
	struct sb_slice realm = sb_slice(c->realm, c->realm_len);
	struct sb_slice nonce = sb_slice(c->nonce, c->nonce_len);
	int err = sip_digest_compute(c->alg, username, realm, password, method, uri, nonce,
				     sb_slice_cstr(nc), sb_slice_cstr(cnonce), qop, body, resp);
	if (err)
		return err;
	sb_buf_append_cstr(out, "Digest username=");
	put_quoted(out, username);
	sb_buf_append_cstr(out, ", realm=");
	put_quoted(out, realm);
	sb_buf_append_cstr(out, ", nonce=");
	put_quoted(out, nonce);
	sb_buf_printf(out, ", uri=\"" SB_SLICE_FMT "\", response=\"%s\", algorithm=%s",
		      SB_SLICE_ARG(uri), resp, sip_digest_alg_name(c->alg));
	if (use_cnonce)
		sb_buf_printf(out, ", cnonce=\"%s\"", cnonce);
	if (c->has_opaque) {
		sb_buf_append_cstr(out, ", opaque=");
		put_quoted(out, sb_slice(c->opaque, c->opaque_len));
	}
	if (qop.len)
		sb_buf_printf(out, ", qop=" SB_SLICE_FMT ", nc=%s", SB_SLICE_ARG(qop), nc);
	return out->err;
}
