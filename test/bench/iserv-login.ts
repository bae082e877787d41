/**
 * IServ login benchmark (run on purpose: `npm run bench:iserv`). Drives complete
 * browser-like logins — bridge /login → IServ authorization, login form, consent
 * → bridge /callback (code exchange, userinfo, users/groups/memberships/session)
 * — against the bridge on PostgreSQL and a real OpenID provider standing in for
 * IServ, at 1, 8 and 32 concurrent browsers. Prints logins/s and latency of the
 * bridge's own two steps (start, callback) separately from the whole flow, since
 * most of the flow's time is spent in the provider.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; an
 * isolated schema is created and dropped), BENCH_LOGINS per level (default 200).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { ensureLogPartitions, LOG_TABLES } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config.js';
import { newToken } from '../../src/crypto/secrets.js';
import { openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { createLogger } from '../../src/logger.js';
import { mounts } from '../../src/modules.js';
import { buildContext } from '../../src/service.js';
import { Browser, throughIServ } from '../support/browser.js';
import { startIServProvider, type IServAccount } from '../support/iserv-provider.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const perLevel = Number(process.env.BENCH_LOGINS ?? 200);
const levels = [1, 8, 32];

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (ms: number) => ms.toFixed(1).padStart(7);

async function main(): Promise<void> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = await openDatabase({ url, schema, poolSize: 20 });
  await migrateToLatest(database.db, database.lockNamespace);

  const server = http.createServer();
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bridgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const operatorToken = newToken('sbo');
  const config = loadConfig({ NODE_ENV: 'development', PUBLIC_URL: bridgeUrl, LOG_LEVEL: 'silent' });
  const ctx = buildContext({ config, logger: createLogger('silent'), database, encryptionKey: randomBytes(32), operatorToken });
  await ensureLogPartitions(ctx.db, ctx.clock.now(), LOG_TABLES, 2);
  server.on('request', createApp(ctx, mounts));

  const accounts: IServAccount[] = Array.from({ length: 300 }, (_, i) => ({
    username: `user${i}`,
    uuid: randomUUID(),
    name: `Person ${i}`,
    groups: [
      { act: `klasse-${i % 20}`, name: `Klasse ${i % 20}` },
      { act: 'alle', name: 'Alle' },
    ],
    roles: i % 10 === 0 ? [{ id: 'ROLE_TEACHER', name: 'Lehrer' }] : [{ id: 'ROLE_STUDENT', name: 'Schüler' }],
  }));
  const slug = 'bench-schule';
  const iserv = await startIServProvider({
    accounts,
    clients: [{ clientId: 'bridge', clientSecret: 'bench-secret-0123456789', redirectUris: [`${bridgeUrl}/iserv/${slug}/callback`], trusted: true }],
  });
  const api = async (method: string, path: string, token: string, body: unknown) => {
    const res = await fetch(`${bridgeUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  await api('POST', '/tenants', operatorToken, { slug, name: 'Benchmark-Schule' });
  await api('PUT', `/tenants/${slug}/iserv`, operatorToken, { baseUrl: iserv.baseUrl, clientId: 'bridge', clientSecret: 'bench-secret-0123456789' });

  const callback = `${bridgeUrl}/iserv/${slug}/callback`;
  let next = 0;
  async function oneLogin(samples: { start: number[]; callback: number[]; total: number[] }): Promise<void> {
    const browser = new Browser();
    const account = accounts[next++ % accounts.length]!;
    const t0 = performance.now();
    const started = await browser.request(`${bridgeUrl}/iserv/${slug}/login`);
    const t1 = performance.now();
    if (started.status !== 303 || !started.location) throw new Error(`login start ${started.status}`);
    const { callbackUrl } = await throughIServ(browser, started.location, { account: account.username, stopAt: callback });
    const t2 = performance.now();
    const done = await browser.request(callbackUrl);
    const t3 = performance.now();
    if (done.status !== 303) throw new Error(`callback ${done.status}: ${done.body.slice(0, 200)}`);
    samples.start.push(t1 - t0);
    samples.callback.push(t3 - t2);
    samples.total.push(t3 - t0);
  }

  // Warm-up: discovery, JWKS, JIT.
  const warm = { start: [] as number[], callback: [] as number[], total: [] as number[] };
  for (let i = 0; i < 20; i++) await oneLogin(warm);

  console.log(`IServ logins, ${perLevel} per level, bridge on PostgreSQL, oidc-provider as IServ (same machine)`);
  console.log('clients  logins/s | bridge start p50/p95/p99 ms | bridge callback p50/p95/p99 ms | whole flow p50/p95 ms');
  for (const concurrency of levels) {
    const samples = { start: [] as number[], callback: [] as number[], total: [] as number[] };
    let remaining = perLevel;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (remaining-- > 0) await oneLogin(samples);
      }),
    );
    const seconds = (performance.now() - began) / 1000;
    const s = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const [st, cb, tot] = [s(samples.start), s(samples.callback), s(samples.total)];
    console.log(
      `${String(concurrency).padStart(7)} ${(samples.total.length / seconds).toFixed(1).padStart(9)} |` +
        `${fmt(pct(st, 50))}${fmt(pct(st, 95))}${fmt(pct(st, 99))}        |` +
        `${fmt(pct(cb, 50))}${fmt(pct(cb, 95))}${fmt(pct(cb, 99))}           |` +
        `${fmt(pct(tot, 50))}${fmt(pct(tot, 95))}`,
    );
  }

  await iserv.close();
  await ctx.audit.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await database.close();
  const cleanup = new pg.Client({ connectionString: url });
  await cleanup.connect();
  await cleanup.query(`drop schema ${schema} cascade`);
  await cleanup.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
