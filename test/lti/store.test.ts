import ltijs from 'ltijs';
import mongoose from 'mongoose';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { ltiFor } from '../../lti/provider.js';
import { purgeExpiredLtiRecords } from '../../lti/documents.js';

describeWithDatabases('ltijs database plugin on our store', (use) => {
  let t: TestApp;
  let other: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
    other = await createTestApp(use());
  });
  afterAll(async () => {
    await t.ctx.audit.close();
    await other.ctx.audit.close();
  });

  test('one ltijs provider per app, never the process-wide singleton; mongoose never connects', () => {
    const a = ltiFor(t.ctx);
    const b = ltiFor(other.ctx);
    expect(a.provider).not.toBe(b.provider);
    expect(a.provider).not.toBe(ltijs.Provider);
    expect(a.provider.Database).toBe(a.store);
    expect(b.provider.Database).toBe(b.store);
    expect(ltiFor(t.ctx)).toBe(a);
    expect(mongoose.connection.readyState).toBe(0);
  });

  test("ltijs's own registerPlatform/getPlatform/platformActive/keyset run on the plugin, keys sealed with AES-256-GCM", async () => {
    const { provider, keyset } = ltiFor(t.ctx);
    const platform = await provider.registerPlatform({
      url: 'https://moodle.example',
      name: 'Moodle',
      clientId: 'abc',
      authenticationEndpoint: 'https://moodle.example/mod/lti/auth.php',
      accesstokenEndpoint: 'https://moodle.example/mod/lti/token.php',
      authConfig: { method: 'JWK_SET', key: 'https://moodle.example/mod/lti/certs.php' },
    });
    const kid = await platform.platformKid();
    const found = await provider.getPlatform('https://moodle.example', 'abc');
    expect(found && (await found.platformKid())).toBe(kid);
    if (!found) throw new Error('platform not found');
    expect(await found.platformActive()).toBe(true); // ltijs: no status document means active
    await found.platformActive(false);
    expect(await found.platformActive()).toBe(false);
    await found.platformActive(true);
    expect(await found.platformActive()).toBe(true);
    expect(found && (await found.platformPrivateKey())).toContain('BEGIN RSA PRIVATE KEY');
    expect((await keyset()).keys.map((k) => k.kid)).toContain(kid);

    const raw = await t.ctx.db.selectFrom('lti_documents').selectAll().where('collection', '=', 'privatekey').execute();
    expect(raw).toHaveLength(1);
    expect(raw[0]!.sealed).toMatch(/^v1\./);
    expect(JSON.stringify(raw[0]!.doc)).not.toContain('PRIVATE KEY');
    expect(raw[0]!.doc).toMatchObject({ kid, platformUrl: 'https://moodle.example', clientId: 'abc' });

    // Authenticated encryption: a flipped byte is refused, not decrypted into garbage.
    const sealed = raw[0]!.sealed!;
    const tampered = sealed.slice(0, -3) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-2);
    await t.ctx.db.updateTable('lti_documents').set({ sealed: tampered }).where('id', '=', raw[0]!.id).execute();
    await expect(found && found.platformPrivateKey()).rejects.toThrow();
    await t.ctx.db.updateTable('lti_documents').set({ sealed }).where('id', '=', raw[0]!.id).execute();
    expect(mongoose.connection.readyState).toBe(0);
  }, 60_000);

  test('Get/Insert/Replace/Modify/Delete with ltijs semantics', async () => {
    const { store } = ltiFor(t.ctx);
    expect(await store.Get(false, 'state', { state: 's1' })).toBe(false);
    await store.Insert(false, 'state', { state: 's1', query: { a: '1' } });
    expect(await store.Get(false, 'state', { state: 's1' })).toEqual([{ state: 's1', query: { a: '1' } }]);

    await store.Replace(false, 'idtoken', { iss: 'i', clientId: 'c', deploymentId: 'd', user: 'u' }, { iss: 'i', clientId: 'c', deploymentId: 'd', user: 'u', platformInfo: { v: 1 } });
    await store.Replace(false, 'idtoken', { iss: 'i', clientId: 'c', deploymentId: 'd', user: 'u' }, { iss: 'i', clientId: 'c', deploymentId: 'd', user: 'u', platformInfo: { v: 2 } });
    const tokens = await store.Get(false, 'idtoken', { iss: 'i', user: 'u' });
    expect(tokens).toHaveLength(1);
    expect(tokens && tokens[0]!.platformInfo).toEqual({ v: 2 });

    await store.Modify(false, 'idtoken', { user: 'u' }, { platformInfo: { v: 3 } });
    expect((await store.Get(false, 'idtoken', { user: 'u' })) as unknown).toEqual([expect.objectContaining({ platformInfo: { v: 3 } })]);

    // Encrypted collection: index fields stay queryable, the payload is sealed; Modify re-seals.
    await store.Replace('k', 'accesstoken', { platformUrl: 'p', clientId: 'c', scopes: 's' }, { token: { access_token: 'first-token-Zq9', expires_in: 3600 } }, { platformUrl: 'p', clientId: 'c', scopes: 's' });
    await store.Modify('k', 'accesstoken', { platformUrl: 'p', clientId: 'c', scopes: 's' }, { token: { access_token: 'second-token-Zq9', expires_in: 3600 } });
    const access = await store.Get('k', 'accesstoken', { platformUrl: 'p', clientId: 'c', scopes: 's' });
    expect(access && access[0]!.token).toEqual({ access_token: 'second-token-Zq9', expires_in: 3600 });
    expect(typeof (access && access[0]!.createdAt)).toBe('number');
    const row = await t.ctx.db.selectFrom('lti_documents').select(['doc', 'sealed']).where('collection', '=', 'accesstoken').executeTakeFirstOrThrow();
    expect(row.sealed).not.toContain('second-token');

    await store.Delete('idtoken', { user: 'u' });
    expect(await store.Get(false, 'idtoken', { user: 'u' })).toBe(false);
    await expect(store.Get(false, 'nope', {})).rejects.toThrow('unknown ltijs collection');
  });

  test('Replace is transactional: concurrent replaces of one document leave exactly one', async () => {
    const { store } = ltiFor(t.ctx);
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.Replace(false, 'platformStatus', { id: 'kid-x' }, { id: 'kid-x', active: i % 2 === 0 })));
    expect(await store.Get(false, 'platformStatus', { id: 'kid-x' })).toHaveLength(1);
  });

  test("lifetimes: nonce 10 s, state 10 min, access token 1 h, id/context tokens 24 h — lazy on read, purged by the job", async () => {
    const { store } = ltiFor(t.ctx);
    await store.Insert(false, 'nonce', { nonce: 'n1' });
    await store.Insert(false, 'state', { state: 's-life' });
    await store.Insert(false, 'contexttoken', { contextId: 'c-life', user: 'u' });
    expect(await store.insertNonce('n1')).toBe(false); // replay refused
    t.clock.advance(10_001);
    expect(await store.Get(false, 'nonce', { nonce: 'n1' })).toBe(false);
    expect(await store.Get(false, 'state', { state: 's-life' })).toHaveLength(1);
    expect(await store.insertNonce('n1')).toBe(true); // the expired one no longer blocks
    t.clock.advance(600_000);
    expect(await store.Get(false, 'state', { state: 's-life' })).toBe(false);
    expect(await store.Get(false, 'contexttoken', { contextId: 'c-life' })).toHaveLength(1);
    t.clock.advance(24 * 3600_000);
    expect(await store.Get(false, 'contexttoken', { contextId: 'c-life' })).toBe(false);
    const before = await t.ctx.db.selectFrom('lti_documents').select('id').where('expires_at', 'is not', null).execute();
    expect(before.length).toBeGreaterThan(0);
    const purged = await purgeExpiredLtiRecords(t.ctx);
    expect(purged).toBeGreaterThanOrEqual(before.length);
    const after = await t.ctx.db.selectFrom('lti_documents').select('id').where('expires_at', '<=', t.clock.now()).execute();
    expect(after).toHaveLength(0);
    // Kept collections (platforms, keys) survive the purge.
    expect(await store.Get(false, 'platform', { clientId: 'abc' })).toHaveLength(1);
  });

  test('state is taken once even under concurrency', async () => {
    const { store } = ltiFor(t.ctx);
    await store.Insert(false, 'state', { state: 'race', nonce: 'x' });
    const results = await Promise.all(Array.from({ length: 5 }, () => store.take('state', { state: 'race' })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('a nonce is accepted once even under concurrency (replay refused)', async () => {
    const { store } = ltiFor(t.ctx);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.insertNonce('concurrent-nonce')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('Encrypt/Decrypt use AES-256-GCM, not CBC', async () => {
    const { store } = ltiFor(t.ctx);
    const enc = await store.Encrypt('geheim', 'ignored');
    expect(enc.iv).toBe('gcm');
    expect(await store.Decrypt(enc.data, enc.iv, 'ignored')).toBe('geheim');
    await expect(store.Decrypt(enc.data.slice(0, -2) + 'xx', enc.iv)).rejects.toThrow();
  });
});
