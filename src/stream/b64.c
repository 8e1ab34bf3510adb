/* Base64 (RFC 4648) for the agent protocols: encoding of media frames, checking and decoding
 * agents' payloads straight into a playout queue. Owns nothing; no allocation. */
#include "stream/b64_int.h"

#define DECODE_CHUNK 768u /* bytes decoded per step into the queue */

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard and URL-safe alphabets both decode; -1 for anything else. */
static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

size_t stream__b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alpha[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_alpha[v & 63] : '=';
	}
	return o;
}

bool stream__b64_check(const char *s, size_t len, size_t *data_len)
{
	size_t n = len;
	while (n > 0 && s[n - 1] == '=' && len - n < 2)
		n--;
	if (n < len && len % 4 != 0)
		return false;
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (b64_val((unsigned char)s[i]) < 0)
			return false;
	*data_len = n;
	return true;
}

void stream__b64_decode_into(struct stream_playout *po, const char *s, size_t n)
{
	uint8_t buf[DECODE_CHUNK];
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 6 | (uint32_t)b64_val((unsigned char)s[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
			if (o == sizeof(buf)) {
				stream_playout_push_bytes(po, buf, o);
				o = 0;
			}
		}
	}
	stream_playout_push_bytes(po, buf, o);
}
