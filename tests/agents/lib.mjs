// Helpers shared by the agent test clients: verdicts, μ-law (G.711) both ways and a Goertzel
// filter, so that every client measures audio the same way as tone_peer.c does.
export function fail(msg) {
	console.log(`FAIL: ${msg}`);
	process.exit(1);
}

export function check(cond, msg) {
	if (!cond) fail(msg);
	console.log(`ok: ${msg}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function ulawDecode(u) {
	u = ~u & 0xff;
	const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
	return u & 0x80 ? 0x84 - t : t - 0x84;
}

export function ulawEncode(s) {
	const BIAS = 0x84, CLIP = 32635;
	const sign = s < 0 ? 0x80 : 0;
	if (sign) s = -s;
	if (s > CLIP) s = CLIP;
	s += BIAS;
	let exp = 7;
	for (let mask = 0x4000; (s & mask) === 0 && exp > 0; exp--, mask >>= 1);
	const mant = (s >> (exp + 3)) & 0x0f;
	return ~(sign | (exp << 4) | mant) & 0xff;
}

// The amplitude of frequency f (Hz) in samples x taken at rate (default 8000).
export function goertzel(x, f, rate = 8000) {
	const w = (2 * Math.PI * f) / rate, c = 2 * Math.cos(w);
	let s1 = 0, s2 = 0;
	for (const v of x) {
		const s0 = v + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return x.length ? (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2))) / x.length : 0;
}
