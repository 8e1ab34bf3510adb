// The softphone against a live SIPp call (run.sh softphone): headless chromium (playwright-core)
// with a fake microphone playing a 440 Hz WAV. The console's "Join as softphone" opens
// softphone.html, which joins room demo over /agent; the caller (tone_peer) sends 1 kHz. The
// page's probe must hear the 1 kHz; run.sh checks that the caller heard the 440 Hz.
// Env: SB_URL, CHROMIUM, SHOTS (screenshots), WAV (the fake mic), TONE_RESULT (tone_peer's
// result file: the page hangs up once it exists), ROOM (demo).
import { chromium } from 'playwright-core';
import { existsSync, statSync } from 'node:fs';

const { SB_URL, CHROMIUM, SHOTS, WAV, TONE_RESULT } = process.env;
const ROOM = process.env.ROOM || 'demo';
let shot = 0;
let browser;

async function waitFor(what, fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error('timed out waiting for ' + what);
		await new Promise((r) => setTimeout(r, 200));
	}
}

async function main() {
	// The WAV loops (chromium's file capture repeats it unless the path ends in %noloop);
	// a whole number of periods, so the loop is seamless.
	browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
			`--use-file-for-fake-audio-capture=${WAV}`,
			'--autoplay-policy=no-user-gesture-required'] });
	const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
	await context.grantPermissions(['microphone'], { origin: SB_URL });
	const page = await context.newPage();
	const errors = [];
	const watch = (p, tag) => {
		p.on('pageerror', (e) => errors.push(`${tag}: ${e}`));
		p.on('console', (m) => { if (m.type() === 'error') errors.push(`${tag}: ${m.text()}`); });
	};
	watch(page, 'console');
	const snap = async (p, name) => {
		shot++;
		await p.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
	};
	const step = (s) => console.log('step: ' + s);

	step('open the console, wait for the call');
	await page.goto(SB_URL + '/');
	await page.locator('#conn.up').waitFor({ timeout: 10000 });
	const part = page.locator(`.room[data-room="${ROOM}"] .part`).filter({
		has: page.locator('.part-kind', { hasText: /^sip$/ }) });
	await part.locator('.call-status[data-status="active"]').waitFor({ timeout: 10000 });
	const identity = await part.getAttribute('data-identity');
	console.log('caller: ' + identity);

	step('Join as softphone opens the softphone, which joins the room');
	const [sp] = await Promise.all([
		page.waitForEvent('popup', { timeout: 10000 }),
		part.locator('.btn-softphone').click(),
	]);
	watch(sp, 'softphone');
	await sp.waitForLoadState();
	if (!sp.url().includes('/softphone.html') || !sp.url().includes('room=' + ROOM))
		throw new Error('the popup is ' + sp.url());
	await sp.locator('#sp-state[data-state="in-call"]').waitFor({ timeout: 15000 });
	await page.locator(`.room[data-room="${ROOM}"] .part .part-kind`, { hasText: /^agent$/ })
		.first().waitFor({ timeout: 5000 });

	step('the softphone hears the caller\'s 1 kHz');
	const heard = await waitFor('1 kHz in the softphone', async () => {
		const s = await sp.evaluate(() => window.sbSoftphone.stats());
		return s.framesIn >= 100 && s.energyAt[1000] >= 0.5 ? s : null;
	}, 15000);
	console.log('softphone heard: ' + JSON.stringify(heard));
	if (heard.dominant !== 1000) throw new Error('dominant frequency ' + heard.dominant + ', want 1000');
	if (heard.energyAt[440] > 0.05)
		throw new Error(`the softphone hears its own 440 Hz (${heard.energyAt[440]})`);
	if (heard.framesOut < 50) throw new Error('the softphone sent only ' + heard.framesOut + ' frames');
	await snap(sp, 'softphone-in-call');

	step('wait for the caller\'s measurement (tone_peer)');
	await waitFor('tone_peer\'s result', () => existsSync(TONE_RESULT) && statSync(TONE_RESULT).size > 0,
		20000);
	const last = await sp.evaluate(() => window.sbSoftphone.stats());
	console.log('softphone at the end: ' + JSON.stringify(last));

	step('hang up: closing /agent hangs up the call');
	await sp.locator('#sp-hangup').click();
	await sp.locator('#sp-state[data-state="ended"]').waitFor({ timeout: 5000 });
	await page.locator(`.part[data-identity="${identity}"]`).waitFor({ state: 'detached', timeout: 10000 });
	await snap(sp, 'softphone-hung-up');
	await snap(page, 'console-after');
	if (errors.length) throw new Error('page errors: ' + errors.join('; '));
	console.log('softphone: ok');
}

main().then(() => browser.close(), async (e) => {
	console.error('FAIL: ' + (e && e.stack || e));
	if (browser) {
		try {
			const pages = browser.contexts().flatMap((c) => c.pages());
			for (const [i, p] of pages.entries())
				await p.screenshot({ path: `${SHOTS}/99-failure-${i}.png`, fullPage: true });
		} catch { /* best effort */ }
		await browser.close();
	}
	process.exit(1);
});
