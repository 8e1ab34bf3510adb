// livekit.SIP trunks and dispatch rules driven by the real npm livekit-server-sdk (SipClient)
// against a running switchboard: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.
//
// Every step checks what the SDK hands back (ids, names, numbers, enums, durations, times) and
// that server errors surface as the SDK's TwirpError with the right code and HTTP status.
// Steps run in order (later ones use the ids of earlier ones); the first failure ends the run
// with exit 1. Run by run.sh, which starts switchboard and installs the SDK with `npm ci`.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  ListUpdate,
  SIPDispatchRule,
  SIPDispatchRuleDirect,
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPMediaEncryption,
  SIPTransport,
  SIPTrunkInfo_TrunkKind,
} from '@livekit/protocol';
import { SipClient, TwirpError } from 'livekit-server-sdk';

// The SDK wants Node >= 19, where Web Crypto is global (it makes a request id with
// globalThis.crypto for every call); Debian 12's nodejs is 18, where it has to be set.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const url = process.env.LIVEKIT_URL;
const key = process.env.LIVEKIT_API_KEY;
const secret = process.env.LIVEKIT_API_SECRET;
if (!url || !key || !secret) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const sdk = JSON.parse(
  readFileSync(new URL('./node_modules/livekit-server-sdk/package.json', import.meta.url)),
);
console.log(`livekit-server-sdk ${sdk.version} against ${url}`);

const sip = new SipClient(url, key, secret);
const TRUNK_ID = /^ST_[2-9A-HJ-NP-Za-km-z]{12}$/;
const RULE_ID = /^SDR_[2-9A-HJ-NP-Za-km-z]{12}$/;

// The SDK call must fail with a TwirpError of this code and HTTP status.
async function rejects(promise, code, status, msg) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a Twirp ${code} error, the call succeeded`);
  assert.ok(err instanceof TwirpError, `not a TwirpError: ${err?.stack ?? err}`);
  assert.equal(err.code, code, `code of: ${err.message}`);
  assert.equal(err.status, status, `status of: ${err.message}`);
  if (msg) assert.match(err.message, msg);
  return err;
}

function ids(items) {
  return items.map((x) => x.sipTrunkId ?? x.sipDispatchRuleId).sort();
}

function recent(ts) {
  assert.ok(ts, 'no timestamp');
  const s = Number(ts.seconds);
  assert.ok(Math.abs(s - Date.now() / 1000) < 600, `timestamp ${s} is not now`);
}

const steps = [];
const step = (name, fn) => steps.push([name, fn]);
const s = {}; // ids and records shared by the steps

step('createSipInboundTrunk with options', async () => {
  const t = await sip.createSipInboundTrunk('in-1', ['+15550001111'], {
    metadata: 'meta-1',
    allowedNumbers: ['+15559990000'],
    allowedAddresses: ['10.0.0.0/8'],
    headersToAttributes: { 'X-Customer': 'customer' },
    krispEnabled: true,
    mediaEncryption: SIPMediaEncryption.SIP_MEDIA_ENCRYPT_ALLOW,
    ringingTimeout: 30,
  });
  assert.match(t.sipTrunkId, TRUNK_ID);
  assert.equal(t.name, 'in-1');
  assert.equal(t.metadata, 'meta-1');
  assert.deepEqual(t.numbers, ['+15550001111']);
  assert.deepEqual(t.allowedNumbers, ['+15559990000']);
  assert.deepEqual(t.allowedAddresses, ['10.0.0.0/8']);
  assert.deepEqual(t.headersToAttributes, { 'X-Customer': 'customer' });
  assert.equal(t.krispEnabled, true);
  assert.equal(t.mediaEncryption, SIPMediaEncryption.SIP_MEDIA_ENCRYPT_ALLOW);
  assert.equal(t.media?.encryption, SIPMediaEncryption.SIP_MEDIA_ENCRYPT_ALLOW);
  assert.equal(t.ringingTimeout?.seconds, 30n);
  recent(t.createdAt);
  recent(t.updatedAt);
  s.in1 = t.sipTrunkId;
});

step('createSipInboundTrunk with digest credentials', async () => {
  const t = await sip.createSipInboundTrunk('in-2', ['+15550002222'], {
    authUsername: 'user',
    authPassword: 'pass',
  });
  assert.match(t.sipTrunkId, TRUNK_ID);
  assert.notEqual(t.sipTrunkId, s.in1);
  assert.equal(t.authUsername, 'user');
  assert.equal(t.authPassword, 'pass');
  assert.equal(t.mediaEncryption, SIPMediaEncryption.SIP_MEDIA_ENCRYPT_DISABLE);
  s.in2 = t.sipTrunkId;
});

step('createSipInboundTrunk conflict is invalid_argument', async () => {
  // the same number once normalised, and any caller on both: LK's conflict rule
  await rejects(
    sip.createSipInboundTrunk('dup', ['+1 (555) 000-2222']),
    'invalid_argument',
    400,
    /Conflicting inbound SIP Trunks/,
  );
});

step('createSipInboundTrunk without numbers, addresses or auth is invalid_argument', async () => {
  await rejects(sip.createSipInboundTrunk('open', []), 'invalid_argument', 400, /for security/);
});

step('createSipOutboundTrunk', async () => {
  const t = await sip.createSipOutboundTrunk('out-1', 'sip.example.com:5080', ['+15550003333'], {
    transport: SIPTransport.SIP_TRANSPORT_TCP,
    authUsername: 'ou',
    authPassword: 'op',
    destinationCountry: 'US',
    headers: { 'X-Trunk': 'one' },
  });
  assert.match(t.sipTrunkId, TRUNK_ID);
  assert.equal(t.name, 'out-1');
  assert.equal(t.address, 'sip.example.com:5080');
  assert.equal(t.transport, SIPTransport.SIP_TRANSPORT_TCP);
  assert.deepEqual(t.numbers, ['+15550003333']);
  assert.equal(t.authUsername, 'ou');
  assert.equal(t.authPassword, 'op');
  assert.equal(t.destinationCountry, 'US');
  assert.deepEqual(t.headers, { 'X-Trunk': 'one' });
  recent(t.createdAt);
  s.out1 = t.sipTrunkId;
});

step('createSipOutboundTrunk with a SIP URI as address is invalid_argument', async () => {
  await rejects(
    sip.createSipOutboundTrunk('bad', 'sip:pbx@example.com', ['+1'], {
      transport: SIPTransport.SIP_TRANSPORT_AUTO,
    }),
    'invalid_argument',
    400,
  );
});

step('listSipInboundTrunk and its filters', async () => {
  assert.deepEqual(ids(await sip.listSipInboundTrunk()), [s.in1, s.in2].sort());
  const byNumber = await sip.listSipInboundTrunk({ numbers: ['+15550002222'] });
  assert.deepEqual(ids(byNumber), [s.in2]);
  assert.equal(byNumber[0].authUsername, 'user');
  const byId = await sip.listSipInboundTrunk({ trunkIds: ['ST_unknown', s.in1] });
  assert.equal(byId.length, 2, 'one slot per requested id');
  assert.equal(byId[0].sipTrunkId, '', 'an unknown id is an empty slot');
  assert.equal(byId[1].sipTrunkId, s.in1);
  const page = await sip.listSipInboundTrunk({ page: { limit: 1 } });
  assert.equal(page.length, 1);
});

step('listSipOutboundTrunk', async () => {
  const l = await sip.listSipOutboundTrunk();
  assert.deepEqual(ids(l), [s.out1]);
  assert.equal(l[0].transport, SIPTransport.SIP_TRANSPORT_TCP);
});

step('listSipTrunk (deprecated) lists both kinds', async () => {
  const l = await sip.listSipTrunk();
  assert.deepEqual(ids(l), [s.in1, s.in2, s.out1].sort());
  const out = l.find((t) => t.sipTrunkId === s.out1);
  assert.equal(out.kind, SIPTrunkInfo_TrunkKind.TRUNK_OUTBOUND);
  assert.equal(out.outboundAddress, 'sip.example.com:5080');
  assert.equal(out.outboundNumber, '+15550003333');
  assert.equal(out.transport, SIPTransport.SIP_TRANSPORT_TCP);
  const in2 = l.find((t) => t.sipTrunkId === s.in2);
  assert.equal(in2.kind, SIPTrunkInfo_TrunkKind.TRUNK_INBOUND);
  assert.equal(in2.inboundUsername, 'user');
});

step('updateSipInboundTrunkFields', async () => {
  const t = await sip.updateSipInboundTrunkFields(s.in1, {
    name: 'in-1b',
    numbers: new ListUpdate({ add: ['+15550004444'] }),
    allowedNumbers: new ListUpdate({ remove: ['+15559990000'] }),
  });
  assert.equal(t.sipTrunkId, s.in1);
  assert.equal(t.name, 'in-1b');
  assert.equal(t.metadata, 'meta-1', 'fields not in the update are kept');
  assert.deepEqual(t.numbers, ['+15550001111', '+15550004444']);
  assert.deepEqual(t.allowedNumbers, []);
  assert.equal(t.mediaEncryption, SIPMediaEncryption.SIP_MEDIA_ENCRYPT_ALLOW);
});

step('updateSipInboundTrunkFields into a conflict is invalid_argument', async () => {
  await rejects(
    sip.updateSipInboundTrunkFields(s.in1, { numbers: new ListUpdate({ add: ['+15550002222'] }) }),
    'invalid_argument',
    400,
    /Conflicting inbound SIP Trunks/,
  );
});

step('updateSipInboundTrunkFields of an unknown trunk is not_found', async () => {
  await rejects(
    sip.updateSipInboundTrunkFields('ST_unknown', { name: 'x' }),
    'not_found',
    404,
    /requested sip trunk does not exist/,
  );
});

step('updateSipInboundTrunk (replace)', async () => {
  const t = await sip.updateSipInboundTrunk(
    s.in2,
    new SIPInboundTrunkInfo({
      name: 'in-2r',
      numbers: ['+15550002222'],
      allowedAddresses: ['192.0.2.0/24'],
    }),
  );
  assert.equal(t.sipTrunkId, s.in2);
  assert.equal(t.name, 'in-2r');
  assert.deepEqual(t.allowedAddresses, ['192.0.2.0/24']);
  assert.equal(t.authUsername, '', 'replace drops what is not given');
});

step('updateSipOutboundTrunkFields', async () => {
  const t = await sip.updateSipOutboundTrunkFields(s.out1, {
    address: 'sip2.example.com',
    numbers: new ListUpdate({ set: ['+15550005555'] }),
    metadata: 'm-out',
  });
  assert.equal(t.sipTrunkId, s.out1);
  assert.equal(t.address, 'sip2.example.com');
  assert.deepEqual(t.numbers, ['+15550005555']);
  assert.equal(t.metadata, 'm-out');
  assert.equal(t.transport, SIPTransport.SIP_TRANSPORT_TCP, 'fields not in the update are kept');
  assert.equal(t.name, 'out-1');
});

step('createSipDispatchRule individual', async () => {
  const r = await sip.createSipDispatchRule(
    { type: 'individual', roomPrefix: 'call-' },
    {
      trunkIds: [s.in1],
      name: 'r-individual',
      metadata: 'rm',
      attributes: { team: 'support' },
      hidePhoneNumber: true,
    },
  );
  assert.match(r.sipDispatchRuleId, RULE_ID);
  assert.equal(r.rule?.rule.case, 'dispatchRuleIndividual');
  assert.equal(r.rule.rule.value.roomPrefix, 'call-');
  assert.equal(r.rule.rule.value.pin, '');
  assert.deepEqual(r.trunkIds, [s.in1]);
  assert.equal(r.name, 'r-individual');
  assert.equal(r.metadata, 'rm');
  assert.deepEqual(r.attributes, { team: 'support' });
  assert.equal(r.hidePhoneNumber, true);
  recent(r.createdAt);
  s.ruleInd = r.sipDispatchRuleId;
});

step('createSipDispatchRule direct with a PIN', async () => {
  const r = await sip.createSipDispatchRule(
    { type: 'direct', roomName: 'lobby', pin: '1234' },
    { name: 'r-direct' },
  );
  assert.match(r.sipDispatchRuleId, RULE_ID);
  assert.equal(r.rule?.rule.case, 'dispatchRuleDirect');
  assert.equal(r.rule.rule.value.roomName, 'lobby');
  assert.equal(r.rule.rule.value.pin, '1234');
  assert.deepEqual(r.trunkIds, []);
  s.ruleDirect = r.sipDispatchRuleId;
});

step('createSipDispatchRule callee', async () => {
  const r = await sip.createSipDispatchRule(
    { type: 'callee', roomPrefix: 'num-', randomize: true },
    { trunkIds: [s.in2] },
  );
  assert.equal(r.rule?.rule.case, 'dispatchRuleCallee');
  assert.equal(r.rule.rule.value.roomPrefix, 'num-');
  assert.equal(r.rule.rule.value.randomize, true);
  s.ruleCallee = r.sipDispatchRuleId;
});

step('createSipDispatchRule conflict is invalid_argument', async () => {
  // same PIN, any trunk, any number: the key of r-direct
  await rejects(
    sip.createSipDispatchRule({ type: 'direct', roomName: 'other', pin: '1234' }),
    'invalid_argument',
    400,
    /already exists/,
  );
});

step('listSipDispatchRule and its filters', async () => {
  assert.deepEqual(
    ids(await sip.listSipDispatchRule()),
    [s.ruleInd, s.ruleDirect, s.ruleCallee].sort(),
  );
  // rules without trunks are wildcards and match any trunk filter
  assert.deepEqual(
    ids(await sip.listSipDispatchRule({ trunkIds: [s.in2] })),
    [s.ruleDirect, s.ruleCallee].sort(),
  );
  const byId = await sip.listSipDispatchRule({ dispatchRuleIds: [s.ruleCallee, s.ruleInd] });
  assert.deepEqual(
    byId.map((r) => r.sipDispatchRuleId),
    [s.ruleCallee, s.ruleInd],
    'request order',
  );
});

step('updateSipDispatchRuleFields', async () => {
  const r = await sip.updateSipDispatchRuleFields(s.ruleInd, {
    name: 'r-individual-2',
    // LK does not check that trunk ids exist; s.in2 would collide with the callee rule
    trunkIds: new ListUpdate({ add: ['ST_elsewhere'] }),
    attributes: { team: '', tier: 'gold' },
  });
  assert.equal(r.sipDispatchRuleId, s.ruleInd);
  assert.equal(r.name, 'r-individual-2');
  assert.deepEqual(r.trunkIds, [s.in1, 'ST_elsewhere']);
  assert.deepEqual(r.attributes, { tier: 'gold' }, 'an empty value deletes the attribute');
  assert.equal(r.rule?.rule.case, 'dispatchRuleIndividual');
});

step('updateSipDispatchRule (replace)', async () => {
  const r = await sip.updateSipDispatchRule(
    s.ruleDirect,
    new SIPDispatchRuleInfo({
      rule: new SIPDispatchRule({
        rule: {
          case: 'dispatchRuleDirect',
          value: new SIPDispatchRuleDirect({ roomName: 'lobby-2', pin: '4321' }),
        },
      }),
      name: 'r-direct-2',
    }),
  );
  assert.equal(r.sipDispatchRuleId, s.ruleDirect);
  assert.equal(r.rule.rule.value.roomName, 'lobby-2');
  assert.equal(r.rule.rule.value.pin, '4321');
  assert.equal(r.name, 'r-direct-2');
});

step('updateSipDispatchRuleFields of an unknown rule is not_found', async () => {
  await rejects(
    sip.updateSipDispatchRuleFields('SDR_unknown', { name: 'x' }),
    'not_found',
    404,
    /requested sip dispatch rule does not exist/,
  );
});

step('deleteSipDispatchRule answers with the rule', async () => {
  const r = await sip.deleteSipDispatchRule(s.ruleInd);
  assert.equal(r.sipDispatchRuleId, s.ruleInd);
  assert.equal(r.name, 'r-individual-2');
  await rejects(sip.deleteSipDispatchRule(s.ruleInd), 'not_found', 404);
  assert.deepEqual(ids(await sip.listSipDispatchRule()), [s.ruleDirect, s.ruleCallee].sort());
});

step('deleteSipTrunk', async () => {
  const t = await sip.deleteSipTrunk(s.in2);
  assert.equal(t.sipTrunkId, s.in2);
  await rejects(
    sip.deleteSipTrunk(s.in2),
    'not_found',
    404,
    /requested sip trunk does not exist/,
  );
  assert.equal((await sip.deleteSipTrunk(s.out1)).sipTrunkId, s.out1);
  assert.deepEqual(ids(await sip.listSipInboundTrunk()), [s.in1]);
  assert.deepEqual(await sip.listSipOutboundTrunk(), []);
});

step('a wrong secret is unauthenticated', async () => {
  const bad = new SipClient(url, key, `${secret}-wrong`);
  await rejects(bad.listSipInboundTrunk(), 'unauthenticated', 401);
});

step('clean up', async () => {
  await sip.deleteSipDispatchRule(s.ruleDirect);
  await sip.deleteSipDispatchRule(s.ruleCallee);
  await sip.deleteSipTrunk(s.in1);
  assert.deepEqual(await sip.listSipTrunk(), []);
  assert.deepEqual(await sip.listSipDispatchRule(), []);
});

let n = 0;
for (const [name, fn] of steps) {
  n++;
  try {
    await fn();
    console.log(`ok ${n} - ${name}`);
  } catch (e) {
    console.log(`not ok ${n} - ${name}`);
    console.log(String(e?.stack ?? e).replace(/^/gm, '  # '));
    process.exit(1);
  }
}
console.log(`all ${n} steps passed`);
