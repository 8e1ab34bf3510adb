/* RIFF/WAVE reading (PCM16, u-law, A-law, WAVE_FORMAT_EXTENSIBLE; mono/stereo) to 16-bit mono,
 * and writing 16-bit mono PCM. Owns its own tiny G.711 expanders so it depends on no codec. */
#include "media/wav.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* Rules, for files from anywhere (announcements are uploaded by users):
 * - every chunk size is checked against the bytes that are really there; a chunk header that
 *   does not fit ends the walk; a data chunk longer than the file reads what is there
 *   (truncated recordings play), and a trailing partial sample frame is dropped;
 * - unknown chunks (LIST, fact, cue, bext...) are skipped, with the RIFF pad byte after an
 *   odd-sized chunk; the RIFF size field itself is not trusted (streaming writers leave it 0);
 * - "fmt " must come before "data" (as RIFF requires); anything after data is ignored;
 * - zero channels, a zero rate or a short fmt chunk is MALFORMED; a real format that we do
 *   not decode (8-bit PCM, 24-bit, float, ADPCM, more than two channels) is UNSUPPORTED. */

#define WAV_FMT_PCM	   1
#define WAV_FMT_ALAW	   6
#define WAV_FMT_ULAW	   7
#define WAV_FMT_EXTENSIBLE 0xfffe

/* 1 GiB: 9 hours of 16 kHz stereo; larger is not an announcement */
#define WAV_MAX_FILE (1u << 30)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* G.711 expanders (ITU-T G.711 tables in closed form). */
static int16_t ulaw_to_s16(uint8_t u)
{
	u = (uint8_t)~u;
	int32_t t = (((int32_t)(u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static int16_t alaw_to_s16(uint8_t a)
{
	a ^= 0x55;
	int32_t t = (int32_t)(a & 0x0f) << 4;
	int seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

/* KSDATAFORMAT_SUBTYPE_xxx = {0000xxxx-0000-0010-8000-00aa00389b71}; bytes after the code. */
static const uint8_t ks_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

struct wav_fmt {
	uint16_t tag, channels, bits;
	uint32_t rate;
};

static int parse_fmt(const uint8_t *p, size_t len, struct wav_fmt *f)
{
	if (len < 16)
		return SB_EMALFORMED;
	f->tag = rd16(p);
	f->channels = rd16(p + 2);
	f->rate = rd32(p + 4);
	f->bits = rd16(p + 14);
	if (f->tag == WAV_FMT_EXTENSIBLE) {
		/* cbSize(2) validBits(2) channelMask(4) subFormat GUID(16) */
		if (len < 40 || rd16(p + 16) < 22)
			return SB_EMALFORMED;
		if (memcmp(p + 26, ks_guid_tail, sizeof(ks_guid_tail)) != 0)
			return SB_EUNSUPPORTED;
		f->tag = rd16(p + 24);
	}
	if (f->channels == 0 || f->rate == 0)
		return SB_EMALFORMED;
	if (f->channels > 2)
		return SB_EUNSUPPORTED;
	switch (f->tag) {
	case WAV_FMT_PCM:
		return f->bits == 16 ? 0 : SB_EUNSUPPORTED;
	case WAV_FMT_ALAW:
	case WAV_FMT_ULAW:
		return f->bits == 8 ? 0 : SB_EUNSUPPORTED;
	default:
		return SB_EUNSUPPORTED;
	}
}

static int16_t sample_at(const struct wav_fmt *f, const uint8_t *p)
{
	switch (f->tag) {
	case WAV_FMT_ULAW:
		return ulaw_to_s16(*p);
	case WAV_FMT_ALAW:
		return alaw_to_s16(*p);
	default:
		return (int16_t)rd16(p);
	}
}

int media_wav_parse(const uint8_t *data, size_t len, struct media_wav *out)
{
	if (!data || len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0)
		return SB_EMALFORMED;

	struct wav_fmt f = {0};
	bool have_fmt = false;
	const uint8_t *pcm = NULL;
	size_t pcm_len = 0;
	size_t pos = 12;
	while (len - pos >= 8) {
		const uint8_t *id = data + pos;
		size_t size = rd32(data + pos + 4);
		size_t body = pos + 8;
		size_t avail = len - body;
		if (memcmp(id, "fmt ", 4) == 0) {
			if (size > avail)
				return SB_EMALFORMED;
			int err = parse_fmt(data + body, size, &f);
			if (err)
				return err;
			have_fmt = true;
		} else if (memcmp(id, "data", 4) == 0) {
			if (!have_fmt)
				return SB_EMALFORMED;
			pcm = data + body;
			pcm_len = size < avail ? size : avail;
			break;
		}
		if (size >= avail) /* also covers a missing pad byte at the very end */
			break;
		pos = body + size + (size & 1);
		if (pos > len)
			break;
	}
	if (!have_fmt || !pcm)
		return SB_EMALFORMED;

	size_t width = (f.bits / 8) * (size_t)f.channels;
	size_t n = pcm_len / width;
	int16_t *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	size_t step = f.bits / 8;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = pcm + i * width;
		if (f.channels == 1)
			s[i] = sample_at(&f, p);
		else
			s[i] = (int16_t)(((int32_t)sample_at(&f, p) + sample_at(&f, p + step)) / 2);
	}
	out->pcm = s;
	out->n = n;
	out->rate = f.rate;
	return 0;
}

int media_wav_load(const char *path, struct media_wav *out)
{
	int err = SB_EIO;
	uint8_t *buf = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return SB_EIO;
	if (fseek(fp, 0, SEEK_END) != 0)
		goto out;
	long size = ftell(fp);
	if (size < 0 || fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	if ((unsigned long)size > WAV_MAX_FILE) {
		err = SB_EUNSUPPORTED;
		goto out;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		err = SB_ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)size, fp) != (size_t)size)
		goto out;
	err = media_wav_parse(buf, (size_t)size, out);
out:
	free(buf);
	fclose(fp);
	return err;
}

void media_wav_free(struct media_wav *w)
{
	if (!w)
		return;
	free(w->pcm);
	w->pcm = NULL;
	w->n = 0;
}

int media_wav_save(const char *path, const int16_t *pcm, size_t n, uint32_t rate)
{
	if ((n && !pcm) || n > (UINT32_MAX - 36) / 2 || rate == 0 || rate > UINT32_MAX / 2)
		return SB_EIO;
	uint8_t h[44];
	uint32_t bytes = (uint32_t)(n * 2);
	memcpy(h, "RIFF", 4);
	wr32(h + 4, 36 + bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	wr32(h + 16, 16);
	wr16(h + 20, WAV_FMT_PCM);
	wr16(h + 22, 1);	/* channels */
	wr32(h + 24, rate);	/* sample rate */
	wr32(h + 28, rate * 2); /* byte rate */
	wr16(h + 32, 2);	/* block align */
	wr16(h + 34, 16);	/* bits */
	memcpy(h + 36, "data", 4);
	wr32(h + 40, bytes);

	FILE *fp = fopen(path, "wb");
	if (!fp)
		return SB_EIO;
	bool ok = fwrite(h, 1, sizeof(h), fp) == sizeof(h);
	uint8_t chunk[1024];
	for (size_t i = 0; ok && i < n;) {
		size_t k = 0;
		for (; k < sizeof(chunk) / 2 && i < n; k++, i++)
			wr16(chunk + 2 * k, (uint16_t)pcm[i]);
		ok = fwrite(chunk, 2, k, fp) == k;
	}
	if (fclose(fp) != 0)
		ok = false;
	if (!ok) {
		remove(path);
		return SB_EIO;
	}
	return 0;
}
