import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, createLocalJWKSet, exportJWK, importSPKI } from 'jose';
import { jitsiToken, newJitsiRoomName, type JitsiServer } from '../../src/conference/jitsi.js';
import { decide, type PolicyTenantSettings } from '../../src/conference/policy.js';

const tenant: PolicyTenantSettings = { consentRequired: false, conference: { lessonLobby: true, recordingAllowed: true, shareLinkMaxHours: 24, lessonPrivateChat: false } };
const room = { category: 'lesson' as const, state: 'running' as const, settings: { recording: true }, backendKind: 'jitsi' as const };
const facts = { usageRulesAccepted: true, videoConsent: true };
const now = new Date('2026-11-22T08:00:00Z');

describe('Jitsi tokens', () => {
  const hs: JitsiServer = { name: 'meet', domain: 'meet.schule.test', appId: 'schulbruecke', audience: 'jitsi', alg: 'HS256', secret: 'x'.repeat(40) };

  test('VC-02/VC-12: HS256 token with typ JWT, numeric nbf/exp valid for minutes, room, pseudonymous user', async () => {
    const name = newJitsiRoomName();
    expect(name).toMatch(/^[a-z2-7]{32}$/); // 160 bits ≥ 128
    expect(newJitsiRoomName()).not.toBe(name);
    const o = decide('join', { kind: 'member', userId: 'u1', roles: ['student'] }, room, tenant, facts).obligations!;
    const token = await jitsiToken(hs, { room: name, userId: 'u1', displayName: 'Kim', obligations: o, now });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(hs.secret), { issuer: 'schulbruecke', audience: 'jitsi', subject: 'meet.schule.test', currentDate: now, algorithms: ['HS256'], typ: 'JWT' });
    expect(payload.room).toBe(name);
    expect(typeof payload.nbf).toBe('number');
    expect(typeof payload.exp).toBe('number');
    expect(payload.exp! - Math.floor(now.getTime() / 1000)).toBeLessThanOrEqual(10 * 60);
    expect(payload.context).toEqual({ user: { id: 'u1', name: 'Kim', moderator: 'false', affiliation: 'member' }, features: { recording: 'false', livestreaming: 'false', transcription: 'false' } });
    for (const v of Object.values((payload.context as { user: Record<string, unknown> }).user)) expect(typeof v).toBe('string');
    await expect(jwtVerify(token, new TextEncoder().encode(hs.secret), { currentDate: new Date(now.getTime() + 11 * 60_000) })).rejects.toThrow();
  });

  test('VC-03/VC-05: teachers are moderators; recording feature only where allowed', async () => {
    const o = decide('join', { kind: 'member', userId: 't1', roles: ['teacher'] }, room, tenant, facts).obligations!;
    const token = await jitsiToken(hs, { room: 'abc', userId: 't1', displayName: 'Frau A', obligations: o, now });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(hs.secret), { currentDate: now });
    expect(payload.context).toMatchObject({ user: { moderator: 'true', affiliation: 'owner' }, features: { recording: 'true', livestreaming: 'false', transcription: 'false' } });
    const noRec = decide('join', { kind: 'member', userId: 't1', roles: ['teacher'] }, room, { ...tenant, conference: { ...tenant.conference, recordingAllowed: false } }, facts).obligations!;
    const t2 = await jitsiToken(hs, { room: 'abc', userId: 't1', displayName: 'Frau A', obligations: noRec, now });
    expect((await jwtVerify(t2, new TextEncoder().encode(hs.secret), { currentDate: now })).payload.context).toMatchObject({ features: { recording: 'false' } });
  });

  test('RS256 with kid verifies against the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs: JitsiServer = { ...hs, alg: 'RS256', kid: 'schule/key-1', secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const o = decide('join', { kind: 'member', userId: 'u1', roles: ['student'] }, room, tenant, facts).obligations!;
    const token = await jitsiToken(rs, { room: 'r', userId: 'u1', displayName: 'Kim', obligations: o, now });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'schule/key-1' });
    const pub = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(pub)), kid: 'schule/key-1', alg: 'RS256' }] });
    const { payload } = await jwtVerify(token, jwks, { issuer: 'schulbruecke', audience: 'jitsi', currentDate: now });
    expect(payload.sub).toBe('meet.schule.test');
  });
});
