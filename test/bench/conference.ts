/**
 * Benchmark (run on purpose: `npm run bench:conference`): one policy decision
 * plus the BBB join URL (checksum), and one decision plus a signed Jitsi token,
 * on one core. Target: under 0.5 ms each.
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BbbClient } from '../../src/conference/bbb.js';
import { jitsiToken, newJitsiRoomName } from '../../src/conference/jitsi.js';
import { decide, type PolicyRoom, type PolicyTenantSettings } from '../../src/conference/policy.js';

const tenant: PolicyTenantSettings = { consentRequired: true, conference: { lessonLobby: true, recordingAllowed: false, shareLinkMaxHours: 24, lessonPrivateChat: false } };
const room: PolicyRoom = { category: 'lesson', state: 'running', settings: {}, backendKind: 'bbb' };
const facts = { videoConsent: true, peerConsent: false, objection: true, usageRulesAccepted: true };
const actor = { kind: 'member' as const, userId: '7f0c1c1e-3c1a-4a55-9d0a-1b2c3d4e5f60', roles: ['student' as const] };

const bbb = new BbbClient({ name: 'bbb', baseUrl: 'https://bbb.schule.example/bigbluebutton', secret: 'b'.repeat(40), checksumAlgorithm: 'sha256' });
const jitsi = { name: 'meet', domain: 'meet.schule.example', appId: 'schulbruecke', audience: 'jitsi', alg: 'HS256' as const, secret: 'j'.repeat(48) };
const meetingId = 'a'.repeat(40);
const jitsiRoom = newJitsiRoomName();

async function measure(name: string, iterations: number, op: () => unknown | Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(2000, iterations / 10); i++) await op(); // warm-up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await op();
  const ms = performance.now() - start;
  const usPerOp = (ms * 1000) / iterations;
  console.log(`${name.padEnd(36)} ${Math.round(iterations / (ms / 1000)).toLocaleString('en').padStart(10)} ops/s  ${usPerOp.toFixed(1).padStart(7)} µs/op  ${usPerOp < 500 ? 'OK (< 0.5 ms)' : 'SLOW (≥ 0.5 ms)'}`);
}

async function main(): Promise<void> {
  console.log(`conference benchmark, node ${process.version}, one process (one core)`);
  await measure('policy decision only', 200_000, () => decide('join', actor, room, tenant, facts));
  await measure('decision + BBB join URL', 100_000, () => {
    const d = decide('join', actor, room, tenant, facts);
    return bbb.joinUrl({ meetingId, createTime: '1732262400000', fullName: 'Kim Muster', userId: actor.userId, obligations: d.obligations! });
  });
  await measure('decision + Jitsi token (HS256)', 50_000, async () => {
    const d = decide('join', actor, { ...room, backendKind: 'jitsi' }, tenant, facts);
    return jitsiToken(jitsi, { room: jitsiRoom, userId: actor.userId, displayName: 'Kim Muster', obligations: d.obligations!, now: new Date() });
  });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs = { ...jitsi, alg: 'RS256' as const, kid: 'schule/key-1', secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  await measure('decision + Jitsi token (RS256, 2048)', 5_000, async () => {
    const d = decide('join', actor, { ...room, backendKind: 'jitsi' }, tenant, facts);
    return jitsiToken(rs, { room: jitsiRoom, userId: actor.userId, displayName: 'Kim Muster', obligations: d.obligations!, now: new Date() });
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
