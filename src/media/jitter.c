/* Adaptive jitter buffer of one leg: reordering, loss/late/duplicate detection, RFC 3550 jitter
 * and a playout delay that follows it. Owns the playout schedule; time is always passed in.
 *
 * The rules, precisely (all times in the caller's ms clock; "frame" = the packet duration
 * seen in timestamp deltas of neighbouring packets, else opts.frame_ms):
 *
 * Schedule. play_at_ms is when next_seq is due. The first packet (and every restart) is due
 * at arrival + target. media_jb_get treats the head as due when now + slack >= play_at, slack
 * being half a frame (at least half of opts.frame_ms), so a consumer ticking every frame period
 * plays one frame per tick whatever its phase; each FRAME or LOST advances play_at by a frame.
 *
 * get. Head present and due: FRAME. Head missing, due, and a later packet held: LOST (samples =
 * one frame, next_payload = the packet after it if held), then the head advances. Nothing held:
 * EMPTY and nothing advances (an underrun: the schedule waits, see "late" below). Not due:
 * EMPTY. A held head that starts a talk spurt (marker and a timestamp that does not continue
 * the previous frame) is re-anchored to its arrival + target: the silence gap absorbs the
 * change of delay, so the delay grows or shrinks there without touching speech.
 *
 * put. Rejected: payload over MEDIA_JB_MAX_BYTES (TOO_BIG, counted in dropped); a sequence
 * already held, or played within the last 32 (DUPLICATE); a sequence already played long ago,
 * reported LOST or skipped (LATE). RESET (buffer emptied, playout restarts from this packet at
 * now + target): a sequence jump over 3000 or a timestamp jump over 10 s (new source: the
 * jitter history is dropped too); or, when nothing is held, a new talk spurt (marker with a
 * timestamp jump, or a timestamp off by two frames or more from the sequence distance, or a
 * sequence 16 or more ahead); or a stalled packet more than max_ms late. A packet 16 or more
 * ahead while others are held: OVERFLOW, the head is dropped (or counted lost if missing) until
 * it fits, and the schedule is kept, which shortens the delay.
 *
 * Jitter (RFC 3550 A.8): transit = arrival - ts (ms, ts scaled by rtp_rate) for every packet
 * that is not rejected as too big or duplicate; J += (|D| - J) / 16, kept in ms x 16 with
 * rounding so it decays to 0 on a steady stream. Jitter target = frame + 2 J rounded up to
 * whole frames, clamped to [min_ms, max_ms]; the initial target is max(40 ms, 2 frames),
 * clamped the same way.
 *
 * Growth (at once). When the jitter target exceeds the target, the target takes it and play_at
 * moves later by the difference (the next gets say EMPTY, "not due yet"). A LATE packet raises
 * the target by its lateness (now - its scheduled time), rounded up to frames and clamped, and
 * moves play_at the same way. A packet that arrives into an empty buffer after its scheduled
 * time (the consumer has been underrunning) re-anchors play_at so it is due now: the delay has
 * grown by the lateness, and the target grows by as much.
 *
 * Shrink (slowly). The target steps down one frame towards the jitter target each 2 s without
 * a change. After each FRAME or LOST, the span held (head to newest, in frames) is compared
 * with the target: above it for 1.5 s in a row, one held frame at the head is skipped (counted
 * in dropped; play_at unchanged, so the delay drops by one frame). A span over max_ms is cut at
 * once. With DTX/VAD most of the shrinking happens at talk-spurt starts instead (above).
 *
 * Stats: put counts every call; dropped counts too-big, overflow, skip and reset drops; lost
 * counts LOST results and missing packets passed over by overflow; delay_ms is the target. */
#include "media/jitter.h"

#include <stdlib.h>
#include <string.h>

#define JB_DEF_RATE	  8000
#define JB_DEF_FRAME_MS	  20
#define JB_DEF_MIN_MS	  20
#define JB_DEF_MAX_MS	  200
#define JB_START_MS	  40
#define JB_SEQ_JUMP	  3000
#define JB_TS_JUMP_S	  10
#define JB_SKIP_HOLD_MS	  1500
#define JB_TARGET_HOLD_MS 2000
#define JB_MAX_FRAME_DIV  8 /* a frame is at most rate / 8 (125 ms) */
#define JB_PLAYED_MEMORY  32

static uint32_t frame_samples(const struct media_jb *jb)
{
	if (jb->last_samples)
		return jb->last_samples;
	uint32_t fs = (uint32_t)((uint64_t)jb->o.frame_ms * jb->o.rtp_rate / 1000);
	return fs ? fs : 1;
}

static uint32_t frame_ms(const struct media_jb *jb)
{
	uint32_t ms = (uint32_t)((uint64_t)frame_samples(jb) * 1000 / jb->o.rtp_rate);
	return ms ? ms : 1;
}

static uint32_t slack_ms(const struct media_jb *jb)
{
	uint32_t f = frame_ms(jb);
	return (f > jb->o.frame_ms ? f : jb->o.frame_ms) / 2;
}

/* Round up to whole frames, then clamp to [min, max]. */
static uint32_t fit_target(const struct media_jb *jb, uint64_t ms)
{
	uint32_t f = frame_ms(jb);
	ms = (ms + f - 1) / f * f;
	if (ms > jb->o.max_ms)
		ms = jb->o.max_ms;
	if (ms < jb->o.min_ms)
		ms = jb->o.min_ms;
	return (uint32_t)ms;
}

static uint32_t jitter_ms(const struct media_jb *jb)
{
	return (jb->jitter_q4_ms + 8) / 16;
}

static uint32_t jitter_target(const struct media_jb *jb)
{
	return fit_target(jb, (uint64_t)frame_ms(jb) + 2u * jitter_ms(jb));
}

/* A larger target delays playout by the difference at once (when shift is set). */
static void set_target(struct media_jb *jb, uint32_t t, bool shift, uint64_t now)
{
	if (t > jb->target_ms && shift)
		jb->play_at_ms += t - jb->target_ms;
	if (t != jb->target_ms)
		jb->target_at_ms = now;
	jb->target_ms = t;
}

/* Slot i's payload (empty payloads may come before any store exists). */
static const uint8_t *slot_data(const struct media_jb *jb, unsigned i)
{
	static const uint8_t none[1];
	return jb->data ? jb->data + (size_t)i * jb->stride : none;
}

static bool holds(const struct media_jb *jb, uint16_t seq)
{
	const unsigned i = seq % MEDIA_JB_SLOTS;
	return jb->slot[i].used && jb->slot[i].seq == seq;
}

/* Frames from the head to the newest packet held (gaps included); 0 when empty. Every packet
 * held lies in [next_seq, next_seq + MEDIA_JB_SLOTS) (older ones are late, newer ones push
 * the head out first), so the newest one, kept as packets are stored, gives it without a
 * look at the slots (their headers are out of cache at a tick). */
static uint32_t span_frames(const struct media_jb *jb)
{
	if (jb->st.depth == 0)
		return 0;
	return (uint16_t)(jb->newest_seq - jb->next_seq) + 1u;
}

static void advance(struct media_jb *jb, bool played)
{
	jb->played_mask = jb->played_mask << 1 | (played ? 1u : 0u);
	jb->next_seq++;
	jb->next_ts += frame_samples(jb);
}

/* Pass over the head without playing it or telling the consumer. */
static void drop_head(struct media_jb *jb)
{
	const unsigned i = jb->next_seq % MEDIA_JB_SLOTS;
	if (holds(jb, jb->next_seq)) {
		jb->slot[i].used = false;
		jb->st.depth--;
		jb->st.dropped++;
	} else {
		jb->st.lost++;
	}
	advance(jb, false);
}

static void clear_slots(struct media_jb *jb)
{
	for (unsigned i = 0; i < MEDIA_JB_SLOTS; i++)
		if (jb->slot[i].used) {
			jb->slot[i].used = false;
			jb->st.dropped++;
		}
	jb->st.depth = 0;
}

static void restart(struct media_jb *jb, uint16_t seq, uint32_t ts, uint64_t now)
{
	clear_slots(jb);
	jb->started = true;
	jb->next_seq = seq;
	jb->next_ts = ts;
	jb->played_mask = 0;
	jb->play_at_ms = now + jb->target_ms;
	jb->above_target_ms = 0;
}

static void learn_samples(struct media_jb *jb, uint32_t earlier_ts, uint32_t later_ts)
{
	uint32_t d = later_ts - earlier_ts;
	if (d > 0 && d <= jb->o.rtp_rate / JB_MAX_FRAME_DIV)
		jb->last_samples = d;
}

static void update_jitter(struct media_jb *jb, uint32_t ts, uint64_t now)
{
	uint32_t arrival = (uint32_t)(now * jb->o.rtp_rate / 1000);
	uint32_t transit = arrival - ts;
	if (jb->have_transit) {
		int32_t d = (int32_t)(transit - (uint32_t)jb->last_transit);
		int64_t d16 = (d < 0 ? -(int64_t)d : d) * 16000 / jb->o.rtp_rate;
		int64_t delta = d16 - jb->jitter_q4_ms;
		int64_t j = jb->jitter_q4_ms + (delta + (delta >= 0 ? 8 : -8)) / 16;
		jb->jitter_q4_ms = j < 0 ? 0 : j > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)j;
	}
	jb->last_transit = transit;
	jb->have_transit = true;
}

static void store(struct media_jb *jb, uint16_t seq, uint32_t ts, bool marker,
		  const uint8_t *payload, size_t len, uint64_t now)
{
	const unsigned i = seq % MEDIA_JB_SLOTS;
	if (len)
		memcpy(jb->data + (size_t)i * jb->stride, payload, len);
	jb->slot[i].len = (uint16_t)len;
	jb->slot[i].seq = seq;
	jb->slot[i].ts = ts;
	jb->slot[i].marker = marker;
	jb->slot[i].arrival_ms = now;
	jb->slot[i].used = true;
	if (jb->st.depth == 0 || (int16_t)(seq - jb->newest_seq) > 0)
		jb->newest_seq = seq;
	jb->st.depth++;
	uint16_t prev = (uint16_t)(seq - 1), next = (uint16_t)(seq + 1);
	if (!marker && holds(jb, prev))
		learn_samples(jb, jb->slot[prev % MEDIA_JB_SLOTS].ts, ts);
	if (holds(jb, next) && !jb->slot[next % MEDIA_JB_SLOTS].marker)
		learn_samples(jb, ts, jb->slot[next % MEDIA_JB_SLOTS].ts);
}

static uint32_t initial_target(const struct media_jb *jb)
{
	uint32_t two = 2 * frame_ms(jb);
	return fit_target(jb, two > JB_START_MS ? two : JB_START_MS);
}

void media_jb_init(struct media_jb *jb, const struct media_jb_opts *o)
{
	memset(jb, 0, sizeof(*jb));
	if (o)
		jb->o = *o;
	if (!jb->o.rtp_rate)
		jb->o.rtp_rate = JB_DEF_RATE;
	if (!jb->o.frame_ms)
		jb->o.frame_ms = JB_DEF_FRAME_MS;
	if (!jb->o.min_ms)
		jb->o.min_ms = JB_DEF_MIN_MS;
	if (!jb->o.max_ms)
		jb->o.max_ms = JB_DEF_MAX_MS;
	if (jb->o.max_ms < jb->o.min_ms)
		jb->o.max_ms = jb->o.min_ms;
	jb->target_ms = initial_target(jb);
	jb->st.delay_ms = jb->target_ms;
}

void media_jb_free(struct media_jb *jb)
{
	clear_slots(jb);
	free(jb->data);
	jb->data = NULL;
	jb->stride = 0;
}

/* Room for a payload of len bytes in every slot: the store grows to the next step (at least
 * 160 bytes, 20 ms of G.711, then multiples of 64) keeping what is held. false = no memory. */
static bool fit(struct media_jb *jb, size_t len)
{
	if (len <= jb->stride)
		return true;
	size_t stride = len <= 160 ? 160 : (len + 63) & ~(size_t)63;
	if (stride > MEDIA_JB_MAX_BYTES)
		stride = MEDIA_JB_MAX_BYTES;
	uint8_t *d = malloc(MEDIA_JB_SLOTS * stride);
	if (!d)
		return false;
	for (unsigned i = 0; i < MEDIA_JB_SLOTS; i++)
		if (jb->slot[i].used && jb->slot[i].len)
			memcpy(d + (size_t)i * stride, jb->data + (size_t)i * jb->stride,
			       jb->slot[i].len);
	free(jb->data);
	jb->data = d;
	jb->stride = (uint16_t)stride;
	return true;
}

void media_jb_reset(struct media_jb *jb)
{
	clear_slots(jb);
	jb->started = false;
	jb->have_transit = false;
	jb->jitter_q4_ms = 0;
	jb->last_samples = 0;
	jb->above_target_ms = 0;
	jb->played_mask = 0;
	jb->target_ms = initial_target(jb);
	jb->st.resets++;
}

enum media_jb_put_result media_jb_put(struct media_jb *jb, uint16_t seq, uint32_t ts, bool marker,
				      const uint8_t *payload, size_t len, uint64_t now_ms)
{
	jb->st.put++;
	if (len > MEDIA_JB_MAX_BYTES || (len && !payload) || !fit(jb, len)) {
		jb->st.dropped++;
		return MEDIA_JB_PUT_TOO_BIG;
	}
	if (!jb->started) {
		restart(jb, seq, ts, now_ms);
		update_jitter(jb, ts, now_ms);
		store(jb, seq, ts, marker, payload, len, now_ms);
		return MEDIA_JB_PUT_OK;
	}

	int32_t d = (int16_t)(seq - jb->next_seq);
	int64_t dts = (int32_t)(ts - jb->next_ts);
	int64_t fs = frame_samples(jb);
	bool empty = jb->st.depth == 0;

	if (d > JB_SEQ_JUMP || d < -JB_SEQ_JUMP || dts > (int64_t)JB_TS_JUMP_S * jb->o.rtp_rate ||
	    dts < -(int64_t)JB_TS_JUMP_S * jb->o.rtp_rate) {
		/* a new source: its timing has nothing to do with the old one's */
		jb->have_transit = false;
		jb->jitter_q4_ms = 0;
		jb->last_samples = 0;
		goto reset;
	}

	if (d < 0) {
		uint32_t back = (uint32_t)-d - 1;
		if (back < JB_PLAYED_MEMORY && (jb->played_mask >> back & 1u)) {
			jb->st.duplicates++;
			return MEDIA_JB_PUT_DUPLICATE;
		}
		update_jitter(jb, ts, now_ms);
		jb->st.late++;
		int64_t sched = (int64_t)jb->play_at_ms + (int64_t)d * frame_ms(jb);
		int64_t lateness = (int64_t)now_ms - sched;
		lateness = lateness < 1 ? 1 : lateness;
		set_target(jb, fit_target(jb, jb->target_ms + (uint64_t)lateness), true, now_ms);
		return MEDIA_JB_PUT_LATE;
	}

	if (empty) {
		int64_t off = dts - d * fs;
		bool jump = marker ? off != 0 : off >= 2 * fs || off <= -2 * fs;
		if (jump || d >= MEDIA_JB_SLOTS)
			goto reset;
		uint64_t sched = jb->play_at_ms + (uint64_t)d * frame_ms(jb);
		if (now_ms > sched) {
			uint64_t lateness = now_ms - sched;
			if (lateness > jb->o.max_ms)
				goto reset;
			jb->play_at_ms += lateness;
			set_target(jb, fit_target(jb, jb->target_ms + lateness), false, now_ms);
		}
	}

	enum media_jb_put_result res = MEDIA_JB_PUT_OK;
	if (d >= MEDIA_JB_SLOTS) {
		while ((uint16_t)(seq - jb->next_seq) >= MEDIA_JB_SLOTS)
			drop_head(jb);
		res = MEDIA_JB_PUT_OVERFLOW;
	} else if (holds(jb, seq)) {
		jb->st.duplicates++;
		return MEDIA_JB_PUT_DUPLICATE;
	}
	update_jitter(jb, ts, now_ms);
	store(jb, seq, ts, marker, payload, len, now_ms);
	uint32_t jt = jitter_target(jb);
	if (jt > jb->target_ms)
		set_target(jb, jt, true, now_ms);
	return res;

reset:
	jb->st.resets++;
	restart(jb, seq, ts, now_ms);
	update_jitter(jb, ts, now_ms);
	store(jb, seq, ts, marker, payload, len, now_ms);
	return MEDIA_JB_PUT_RESET;
}

/* After a frame went out: the slow shrink and the hard max_ms bound. */
static void control_depth(struct media_jb *jb)
{
	uint32_t f = frame_ms(jb);
	uint32_t span = span_frames(jb);
	while (span * f > jb->o.max_ms) {
		drop_head(jb);
		span = span_frames(jb);
	}
	if (span * f <= jb->target_ms) {
		jb->above_target_ms = 0;
		return;
	}
	jb->above_target_ms += f;
	if (jb->above_target_ms >= JB_SKIP_HOLD_MS && holds(jb, jb->next_seq)) {
		drop_head(jb);
		jb->above_target_ms = 0;
	}
}

enum media_jb_get_result media_jb_get(struct media_jb *jb, uint64_t now_ms,
				      struct media_jb_frame *out)
{
	memset(out, 0, sizeof(*out));
	if (!jb->started)
		return MEDIA_JB_EMPTY;

	uint32_t jt = jitter_target(jb);
	uint32_t f = frame_ms(jb);
	if (jt < jb->target_ms && now_ms - jb->target_at_ms >= JB_TARGET_HOLD_MS) {
		uint32_t t = jb->target_ms - f;
		set_target(jb, t > jt && t <= jb->target_ms ? t : jt, false, now_ms);
	}
	if (jb->st.depth == 0)
		return MEDIA_JB_EMPTY;

	const unsigned h = jb->next_seq % MEDIA_JB_SLOTS;
	bool have = holds(jb, jb->next_seq);
	if (have && jb->slot[h].marker && jb->slot[h].ts != jb->next_ts) {
		jb->play_at_ms = jb->slot[h].arrival_ms + jb->target_ms;
		jb->next_ts = jb->slot[h].ts;
		jb->above_target_ms = 0;
	}
	if (now_ms + slack_ms(jb) < jb->play_at_ms)
		return MEDIA_JB_EMPTY;

	enum media_jb_get_result res;
	if (have) {
		const uint16_t next = (uint16_t)(jb->next_seq + 1);
		if (holds(jb, next) && !jb->slot[next % MEDIA_JB_SLOTS].marker)
			learn_samples(jb, jb->slot[h].ts, jb->slot[next % MEDIA_JB_SLOTS].ts);
		out->payload = slot_data(jb, h);
		out->len = jb->slot[h].len;
		out->seq = jb->slot[h].seq;
		out->ts = jb->slot[h].ts;
		out->marker = jb->slot[h].marker;
		out->samples = frame_samples(jb);
		jb->slot[h].used = false;
		jb->st.depth--;
		jb->st.played++;
		jb->next_ts = jb->slot[h].ts;
		res = MEDIA_JB_FRAME;
	} else {
		const uint16_t next = (uint16_t)(jb->next_seq + 1);
		out->seq = jb->next_seq;
		out->ts = jb->next_ts;
		out->samples = frame_samples(jb);
		if (holds(jb, next)) {
			out->next_payload = slot_data(jb, next % MEDIA_JB_SLOTS);
			out->next_len = jb->slot[next % MEDIA_JB_SLOTS].len;
		}
		jb->st.lost++;
		res = MEDIA_JB_LOST;
	}
	advance(jb, have);
	jb->play_at_ms += frame_ms(jb);
	control_depth(jb);
	return res;
}

void media_jb_stats(const struct media_jb *jb, struct media_jb_stats *out)
{
	*out = jb->st;
	out->delay_ms = jb->target_ms;
	out->jitter_ms = jitter_ms(jb);
}
