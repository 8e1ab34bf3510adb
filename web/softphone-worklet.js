// switchboard softphone: the audio thread. Captures the mic as PCM16LE frames of 20 ms at the
// wire rate and plays the room's frames from a small jitter FIFO (underrun = silence).
'use strict';

// Linear-interpolation resampler between the context's rate and the wire rate; state carries
// over blocks so the phase is continuous. Ratio 1 is a plain copy.
class Resampler {
	constructor(from, to) {
		this.step = from / to; // input samples per output sample
		this.pos = 0;          // position of the next output sample, relative to `last`
		this.last = 0;         // the previous block's last input sample (index -1)
	}

	// Appends the resampled `input` (Float32Array) to `out` (an array of numbers).
	push(input, out) {
		if (this.step === 1) {
			for (let i = 0; i < input.length; i++) out.push(input[i]);
			return;
		}
		let pos = this.pos;
		const n = input.length;
		while (pos < n) {
			const i = Math.floor(pos);
			const f = pos - i;
			const a = i === 0 ? this.last : input[i - 1];
			const b = input[i];
			out.push(a + (b - a) * f);
			pos += this.step;
		}
		this.pos = pos - n;
		if (n) this.last = input[n - 1];
	}
}

const FIFO_SECONDS = 2;

class SoftphoneProcessor extends AudioWorkletProcessor {
	constructor(options) {
		super();
		const o = options.processorOptions;
		this.wireRate = o.wireRate;
		this.frame = o.wireRate / 50;              // samples per 20 ms frame
		this.prebuffer = Math.round(o.ctxRate * (o.prebufferMs || 60) / 1000);
		this.maxDepth = Math.round(o.ctxRate * (o.maxDepthMs || 300) / 1000);
		this.up = new Resampler(o.ctxRate, o.wireRate);   // mic -> wire
		this.down = new Resampler(o.wireRate, o.ctxRate); // wire -> speaker
		this.cap = [];                             // captured samples at the wire rate
		this.fifo = new Float32Array(o.ctxRate * FIFO_SECONDS);
		this.head = 0;                             // read index
		this.size = 0;                             // samples queued
		this.playing = false;                      // false while (re)filling the prebuffer
		this.muted = false;
		this.underruns = 0;
		this.dropped = 0;
		this.tmp = [];
		this.port.onmessage = (e) => this.onMessage(e.data);
	}

	onMessage(m) {
		if (m instanceof ArrayBuffer) {
			this.enqueue(new Int16Array(m));
		} else if (m && m.type === 'mute') {
			this.muted = !!m.muted;
		} else if (m && m.type === 'stats') {
			this.port.postMessage({ type: 'stats', depth: this.size, underruns: this.underruns,
				dropped: this.dropped });
		}
	}

	// A received frame: int16 at the wire rate -> float at the context's rate, into the FIFO.
	// Too deep (the network delivered a burst, or we play slower than it sends): the oldest
	// audio goes, so latency stays bounded.
	enqueue(pcm) {
		const f = new Float32Array(pcm.length);
		for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
		const out = this.tmp;
		out.length = 0;
		this.down.push(f, out);
		const cap = this.fifo.length;
		for (let i = 0; i < out.length; i++) {
			if (this.size === cap) {
				this.head = (this.head + 1) % cap;
				this.size--;
				this.dropped++;
			}
			this.fifo[(this.head + this.size) % cap] = out[i];
			this.size++;
		}
		if (this.size > this.maxDepth) {
			const drop = this.size - this.prebuffer;
			this.head = (this.head + drop) % cap;
			this.size -= drop;
			this.dropped += drop;
		}
	}

	process(inputs, outputs) {
		// capture: the first channel of the mic, 20 ms frames of PCM16LE to the main thread
		const input = inputs[0] && inputs[0][0];
		if (input) {
			const before = this.cap.length;
			this.up.push(input, this.cap);
			if (this.muted) this.cap.fill(0, before);
			while (this.cap.length >= this.frame) {
				const pcm = new Int16Array(this.frame);
				for (let i = 0; i < this.frame; i++) {
					const s = Math.max(-1, Math.min(1, this.cap[i]));
					pcm[i] = s < 0 ? s * 32768 : s * 32767;
				}
				this.cap.splice(0, this.frame);
				this.port.postMessage(pcm.buffer, [pcm.buffer]);
			}
		}
		// playback: silence until the prebuffer is full, and again after an underrun
		const out = outputs[0];
		const n = out[0].length;
		if (!this.playing && this.size >= this.prebuffer) this.playing = true;
		const ch = out[0];
		if (this.playing) {
			const cap = this.fifo.length;
			const take = Math.min(n, this.size);
			for (let i = 0; i < take; i++) ch[i] = this.fifo[(this.head + i) % cap];
			ch.fill(0, take);
			this.head = (this.head + take) % cap;
			this.size -= take;
			if (take < n) {
				this.playing = false;
				this.underruns++;
			}
		} else {
			ch.fill(0);
		}
		for (let c = 1; c < out.length; c++) out[c].set(ch);
		return true;
	}
}

registerProcessor('sb-softphone', SoftphoneProcessor);
