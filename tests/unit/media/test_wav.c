/* Unit tests for src/media/wav.c: save/load round trip, hand-made headers (stereo, u-law, A-law,
 * extensible, LIST and odd-sized chunks, truncated data) and the malformed/unsupported cases. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "media/wav.h"

/* ---- a little WAV builder: chunks appended to a byte buffer ---- */

struct wb {
	uint8_t b[4096];
	size_t n;
};

static void put(struct wb *w, const void *p, size_t len)
{
	assert_true(w->n + len <= sizeof(w->b));
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void put16(struct wb *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(w, b, 2);
}

static void put32(struct wb *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(w, b, 4);
}

static void riff(struct wb *w)
{
	w->n = 0;
	put(w, "RIFF", 4);
	put32(w, 0); /* patched by done() */
	put(w, "WAVE", 4);
}

static void fmt(struct wb *w, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits)
{
	put(w, "fmt ", 4);
	put32(w, 16);
	put16(w, tag);
	put16(w, ch);
	put32(w, rate);
	put32(w, rate * ch * bits / 8);
	put16(w, (uint16_t)(ch * bits / 8));
	put16(w, bits);
}

static void chunk(struct wb *w, const char *id, const void *p, uint32_t len)
{
	put(w, id, 4);
	put32(w, len);
	put(w, p, len);
	if (len & 1)
		put(w, "", 1);
}

static void done(struct wb *w)
{
	uint32_t v = (uint32_t)(w->n - 8);
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	memcpy(w->b + 4, b, 4);
}

static const int16_t pcm5[5] = {0, 1000, -1000, 32767, -32768};

static void data16(struct wb *w, const int16_t *s, size_t n)
{
	put(w, "data", 4);
	put32(w, (uint32_t)(n * 2));
	for (size_t i = 0; i < n; i++)
		put16(w, (uint16_t)s[i]);
}

/* ---- temp dir ---- */

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sb-wav-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof(p), "%s/a.wav", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/b.wav", dir);
	unlink(p);
	return rmdir(dir);
}

/* ---- tests ---- */

static void round_trip(void **state)
{
	(void)state;
	enum { N = 16000 };
	int16_t *s = malloc(N * sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < N; i++)
		s[i] = (int16_t)((i * 2654435761u) >> 16);
	char p[128];
	snprintf(p, sizeof(p), "%s/a.wav", dir);
	assert_int_equal(media_wav_save(p, s, N, 16000), 0);
	struct media_wav w;
	assert_int_equal(media_wav_load(p, &w), 0);
	assert_int_equal(w.rate, 16000);
	assert_int_equal(w.n, N);
	assert_memory_equal(w.pcm, s, N * sizeof(*s));
	media_wav_free(&w);
	assert_null(w.pcm);
	media_wav_free(&w); /* twice is harmless */

	/* the file is exactly the canonical 44-byte header + data */
	FILE *fp = fopen(p, "rb");
	assert_non_null(fp);
	uint8_t h[44];
	assert_int_equal(fread(h, 1, 44, fp), 44);
	fseek(fp, 0, SEEK_END);
	assert_int_equal(ftell(fp), 44 + 2 * N);
	fclose(fp);
	assert_memory_equal(h, "RIFF", 4);
	assert_memory_equal(h + 8, "WAVEfmt ", 8);
	assert_memory_equal(h + 36, "data", 4);
	free(s);

	/* empty file */
	snprintf(p, sizeof(p), "%s/b.wav", dir);
	assert_int_equal(media_wav_save(p, NULL, 0, 8000), 0);
	assert_int_equal(media_wav_load(p, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.rate, 8000);
	media_wav_free(&w);
}

static void io_errors(void **state)
{
	(void)state;
	struct media_wav w = {0};
	char p[128];
	snprintf(p, sizeof(p), "%s/missing.wav", dir);
	assert_int_equal(media_wav_load(p, &w), SB_EIO);
	snprintf(p, sizeof(p), "%s/no/such/dir/x.wav", dir);
	assert_int_equal(media_wav_save(p, pcm5, 5, 8000), SB_EIO);
	/* a file that is not a WAV */
	snprintf(p, sizeof(p), "%s/a.wav", dir);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	fputs("hello, this is not audio at all", fp);
	fclose(fp);
	assert_int_equal(media_wav_load(p, &w), SB_EMALFORMED);
	assert_null(w.pcm); /* untouched on failure */
}

static void stereo16(void **state)
{
	(void)state;
	struct wb w;
	riff(&w);
	fmt(&w, 1, 2, 44100, 16);
	const int16_t lr[] = {100, 300, -100, -301, 32767, 32767, -32768, -32768, 32767, -32768};
	data16(&w, lr, 10);
	done(&w);
	struct media_wav m;
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.rate, 44100);
	assert_int_equal(m.n, 5);
	assert_int_equal(m.pcm[0], 200);
	assert_int_equal(m.pcm[1], -200); /* -401 / 2 truncates towards zero */
	assert_int_equal(m.pcm[2], 32767);
	assert_int_equal(m.pcm[3], -32768);
	assert_int_equal(m.pcm[4], 0);
	media_wav_free(&m);
}

static void ulaw_alaw(void **state)
{
	(void)state;
	const uint8_t u[] = {0x00, 0x80, 0xff, 0x7f, 0xf0};
	const int16_t ue[] = {-32124, 32124, 0, 0, 120};
	const uint8_t a[] = {0xd5, 0x55, 0xaa, 0x2a, 0x80};
	const int16_t ae[] = {8, -8, 32256, -32256, 5504};
	struct wb w;
	struct media_wav m;

	riff(&w);
	fmt(&w, 7, 1, 8000, 8);
	chunk(&w, "data", u, sizeof(u)); /* odd size: pad byte follows */
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.rate, 8000);
	assert_int_equal(m.n, 5);
	assert_memory_equal(m.pcm, ue, sizeof(ue));
	media_wav_free(&m);

	riff(&w);
	fmt(&w, 6, 1, 8000, 8);
	chunk(&w, "data", a, sizeof(a));
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.n, 5);
	assert_memory_equal(m.pcm, ae, sizeof(ae));
	media_wav_free(&m);

	/* stereo A-law: (8 + -8) / 2, (32256 + -32256) / 2 */
	riff(&w);
	fmt(&w, 6, 2, 8000, 8);
	chunk(&w, "data", a, 4);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.pcm[0], 0);
	assert_int_equal(m.pcm[1], 0);
	media_wav_free(&m);

	/* u-law with 16 bits per sample is not a format we know */
	riff(&w);
	fmt(&w, 7, 1, 8000, 16);
	chunk(&w, "data", u, 4);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EUNSUPPORTED);
}

static void extensible(void **state)
{
	(void)state;
	static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					      0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
	for (int variant = 0; variant < 3; variant++) {
		struct wb w;
		riff(&w);
		put(&w, "fmt ", 4);
		put32(&w, 40);
		put16(&w, 0xfffe);
		put16(&w, 1);
		put32(&w, 48000);
		put32(&w, 96000);
		put16(&w, 2);
		put16(&w, 16);
		put16(&w, 22);			 /* cbSize */
		put16(&w, 16);			 /* valid bits */
		put32(&w, 4);			 /* channel mask: front centre */
		put16(&w, variant == 1 ? 3 : 1); /* subformat: PCM, or IEEE float */
		if (variant == 2)
			put(&w, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e", 14);
		else
			put(&w, guid_tail, sizeof(guid_tail));
		data16(&w, pcm5, 5);
		done(&w);
		struct media_wav m;
		int err = media_wav_parse(w.b, w.n, &m);
		if (variant != 0) {
			assert_int_equal(err, SB_EUNSUPPORTED);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(m.rate, 48000);
		assert_int_equal(m.n, 5);
		assert_memory_equal(m.pcm, pcm5, sizeof(pcm5));
		media_wav_free(&m);
	}
}

static void skips_chunks(void **state)
{
	(void)state;
	struct wb w;
	struct media_wav m;
	riff(&w);
	chunk(&w, "JUNK", "abc", 3); /* odd: padded to 4 */
	fmt(&w, 1, 1, 8000, 16);
	chunk(&w, "LIST", "INFOISFT\x05\x00\x00\x00test\x00\x00", 18);
	chunk(&w, "fact", "\x05\x00\x00\x00", 4);
	data16(&w, pcm5, 5);
	chunk(&w, "LIST", "INFO", 4); /* after data: ignored */
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.n, 5);
	assert_memory_equal(m.pcm, pcm5, sizeof(pcm5));
	media_wav_free(&m);

	/* the fmt chunk itself odd-sized (18 bytes with cbSize 0 is common; 17 is not, but legal)
	 */
	riff(&w);
	put(&w, "fmt ", 4);
	put32(&w, 17);
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 8000);
	put32(&w, 16000);
	put16(&w, 2);
	put16(&w, 16);
	put(&w, "\x00\x00", 2); /* one extra byte + the pad */
	data16(&w, pcm5, 5);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.n, 5);
	assert_memory_equal(m.pcm, pcm5, sizeof(pcm5));
	media_wav_free(&m);

	/* no pad byte after an odd chunk: the next chunk is misread, and no data is found */
	riff(&w);
	fmt(&w, 1, 1, 8000, 16);
	put(&w, "JUNK", 4);
	put32(&w, 3);
	put(&w, "abc", 3);
	data16(&w, pcm5, 5);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);
}

static void truncated(void **state)
{
	(void)state;
	struct wb w;
	struct media_wav m;
	riff(&w);
	fmt(&w, 1, 1, 8000, 16);
	put(&w, "data", 4);
	put32(&w, 1000000); /* claims far more than is there */
	for (size_t i = 0; i < 5; i++)
		put16(&w, (uint16_t)pcm5[i]);
	put(&w, "\x7f", 1); /* and half a sample */
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.n, 5);
	assert_memory_equal(m.pcm, pcm5, sizeof(pcm5));
	media_wav_free(&m);

	/* every prefix of a valid file parses or fails cleanly (ASan watches the reads) */
	riff(&w);
	fmt(&w, 1, 2, 8000, 16);
	chunk(&w, "LIST", "INFO", 4);
	data16(&w, pcm5, 4);
	done(&w);
	for (size_t len = 0; len <= w.n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, w.b, len);
		int err = media_wav_parse(copy, len, &m);
		if (len < 12 + 24 + 12 + 8)
			assert_int_equal(err, SB_EMALFORMED);
		else {
			assert_int_equal(err, 0);
			assert_int_equal(m.n, (len - 56) / 4);
			media_wav_free(&m);
		}
		free(copy);
	}
}

static void malformed(void **state)
{
	(void)state;
	struct wb w;
	struct media_wav m = {0};
	assert_int_equal(media_wav_parse(NULL, 0, &m), SB_EMALFORMED);
	assert_int_equal(media_wav_parse((const uint8_t *)"RIFF", 4, &m), SB_EMALFORMED);

	riff(&w); /* not RIFF */
	fmt(&w, 1, 1, 8000, 16);
	data16(&w, pcm5, 5);
	done(&w);
	memcpy(w.b, "RIFX", 4);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);
	memcpy(w.b, "RIFF", 4);
	memcpy(w.b + 8, "AVI ", 4);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* zero channels */
	fmt(&w, 1, 0, 8000, 16);
	data16(&w, pcm5, 5);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* zero rate */
	fmt(&w, 1, 1, 0, 16);
	data16(&w, pcm5, 5);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* data before fmt */
	data16(&w, pcm5, 5);
	fmt(&w, 1, 1, 8000, 16);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* no data */
	fmt(&w, 1, 1, 8000, 16);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* short fmt chunk */
	chunk(&w, "fmt ", "\x01\x00\x01\x00", 4);
	data16(&w, pcm5, 5);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	riff(&w); /* fmt chunk longer than the file */
	put(&w, "fmt ", 4);
	put32(&w, 0xffffffffu);
	put16(&w, 1);
	done(&w);
	assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EMALFORMED);

	/* real formats we do not decode */
	const struct {
		uint16_t tag, ch, bits;
	} unsup[] = {{1, 1, 8}, {1, 1, 24}, {3, 1, 32}, {2, 1, 4}, {1, 3, 16}};
	for (size_t i = 0; i < sizeof(unsup) / sizeof(unsup[0]); i++) {
		riff(&w);
		fmt(&w, unsup[i].tag, unsup[i].ch, 8000, unsup[i].bits);
		data16(&w, pcm5, 5);
		done(&w);
		assert_int_equal(media_wav_parse(w.b, w.n, &m), SB_EUNSUPPORTED);
	}
	assert_null(m.pcm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(io_errors, setup, teardown),
	    cmocka_unit_test(stereo16),
	    cmocka_unit_test(ulaw_alaw),
	    cmocka_unit_test(extensible),
	    cmocka_unit_test(skips_chunks),
	    cmocka_unit_test(truncated),
	    cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
