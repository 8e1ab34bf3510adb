// The console against a live SIPp call (run.sh console-call): headless chromium through
// playwright-core. Env: SB_URL (http://HOST:PORT), CHROMIUM, SHOTS (screenshot directory),
// SIPP_LOG (SIPp's -log_file, where uac-room-held.xml logs the re-INVITEs it gets).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const { SB_URL, CHROMIUM, SHOTS, SIPP_LOG } = process.env;
let shot = 0;
let browser;

function sippLogHas(text) {
	try { return readFileSync(SIPP_LOG, 'utf8').includes(text); } catch { return false; }
}

async function waitFor(what, fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		if (await fn()) return;
		if (Date.now() > end) throw new Error('timed out waiting for ' + what);
		await new Promise((r) => setTimeout(r, 100));
	}
}

async function main() {
	browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
	const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	const snap = async (name) => {
		shot++;
		await page.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
	};
	const step = (s) => console.log('step: ' + s);

	step('open the console');
	await page.goto(SB_URL + '/');
	await page.locator('#conn.up').waitFor({ timeout: 10000 });

	step('the event WebSocket refuses a missing or bad token');
	for (const q of ['', '?access_token=x.y.z']) {
		const code = await page.evaluate((u) => new Promise((resolve) => {
			const ws = new WebSocket(u);
			ws.onclose = (e) => resolve(e.code);
		}), SB_URL.replace(/^http/, 'ws') + '/console/ws' + q);
		if (code !== 1008) throw new Error(`/console/ws${q}: closed with ${code}, want 1008`);
	}

	step('the call appears with its attributes');
	const part = page.locator('.room[data-room="demo"] .part').filter({
		has: page.locator('.part-kind', { hasText: /^sip$/ }) });
	await part.waitFor({ timeout: 10000 });
	await part.locator('.call-status[data-status="active"]').waitFor({ timeout: 10000 });
	await part.locator('.attrs dd[data-key="sip.callID"]').waitFor({ timeout: 5000 });
	await part.locator('.attrs dd[data-key="sip.phoneNumber"]', { hasText: '+15550100' })
		.waitFor({ timeout: 5000 });
	const identity = await part.getAttribute('data-identity');
	console.log('participant: ' + identity);
	if (!(await part.locator('.btn-softphone:not([disabled])').isVisible()))
		throw new Error('no enabled "Join as softphone" button');
	await snap('call');

	step('hold');
	await part.locator('.btn-hold').click();
	await waitFor('SIPp to get a re-INVITE with a=sendonly', () => sippLogHas('hold re-INVITE: a=sendonly'));
	await part.locator('.hold-state[data-held="true"]').waitFor({ timeout: 10000 });
	await part.locator('.attrs dd[data-key="sip.hold"]', { hasText: 'local' }).waitFor({ timeout: 5000 });
	await page.locator('#events li', { hasText: `${identity} held` }).first().waitFor({ timeout: 5000 });
	await snap('held');

	step('resume');
	await part.locator('.btn-resume').click();
	await waitFor('SIPp to get a re-INVITE with a=sendrecv', () => sippLogHas('resume re-INVITE: a=sendrecv'));
	await part.locator('.hold-state[data-held="false"]').waitFor({ timeout: 10000 });
	await snap('resumed');

	step('send DTMF');
	await part.locator('.dtmf-digits').fill('1#');
	await part.locator('.btn-dtmf').click();
	await part.locator('.result', { hasText: 'sent 1#' }).waitFor({ timeout: 10000 });
	await page.locator('#events li', { hasText: 'sent DTMF 1#' }).first().waitFor({ timeout: 5000 });
	await snap('dtmf');

	step('hang up');
	await part.locator('.btn-hangup').click();
	await page.locator(`.part[data-identity="${identity}"]`).waitFor({ state: 'detached', timeout: 10000 });
	await page.locator('#events li', { hasText: `${identity} left` }).first().waitFor({ timeout: 5000 });
	await snap('hung-up');
	if (errors.length) throw new Error('page errors: ' + errors.join('; '));
	console.log('console-call: ok');
}

main().then(() => browser.close(), async (e) => {
	console.error('FAIL: ' + (e && e.stack || e));
	if (browser) {
		try {
			const pages = browser.contexts().flatMap((c) => c.pages());
			if (pages[0]) await pages[0].screenshot({ path: `${SHOTS}/99-failure.png`, fullPage: true });
		} catch { /* best effort */ }
		await browser.close();
	}
	process.exit(1);
});
