/**
 * `npm run bench:launch`: complete LTI launches (login initiation → id_token form_post →
 * landing page) against a running bridge on PostgreSQL, at 1, 8 and 32 concurrent clients.
 *
 * The bridge runs as its own process (`dist/src/main.js`) on a fresh database; this process
 * plays Moodle (the simulated platform signs the id_tokens in-process, as Moodle's auth.php
 * would) and the browsers. Figures: launches/s and p50/p95/p99 of a whole launch, plus the
 * bridge's own share (the three requests to it).
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test — a database
 * `bench_lti_<random>` is created next to it and dropped afterwards), BENCH_SECONDS (default 8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LtiPlatform } from '../support/lti-platform.js';

const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.env.BENCH_SECONDS ?? '8');
const USERS = 300;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startBridge(databaseUrl: string, port: number, operatorToken: string): Promise<ChildProcess> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(root, 'dist/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '20',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      OPERATOR_TOKEN: operatorToken,
      LOG_LEVEL: 'warn',
      JOBS: 'off',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) return child;
    } catch {
      /* not up yet */
    }
  }
  child.kill();
  throw new Error('bridge did not become ready');
}

interface Run {
  total: number[];
  bridge: number[];
  errors: number;
  elapsedMs: number;
}

async function oneLaunch(tool: string, moodle: LtiPlatform, user: number): Promise<{ total: number; bridge: number }> {
  const t0 = performance.now();
  const login = moodle.loginInitiation('launch-teacher', { login_hint: String(user), target_link_uri: `${tool}/lti/launch` });
  const a0 = performance.now();
  const first = await fetch(`${tool}/lti/login?${new URLSearchParams(login)}`, { redirect: 'manual' });
  await first.arrayBuffer();
  const a1 = performance.now();
  if (first.status !== 302) throw new Error(`login ${first.status}`);
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const auth = new URL(first.headers.get('location')!);
  const idToken = await moodle.idToken(
    { fixture: (user % 5 === 0 ? 'launch-student' : 'launch-teacher'), edit: (c) => Object.assign(c, { sub: String(user), name: `Person ${user}` }) },
    auth.searchParams.get('nonce')!,
  );
  const b0 = performance.now();
  const launch = await fetch(`${tool}/lti/launch`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ id_token: idToken, state: auth.searchParams.get('state')! }),
  });
  await launch.arrayBuffer();
  if (launch.status !== 303) throw new Error(`launch ${launch.status}`);
  const session = launch.headers.getSetCookie().find((c) => c.startsWith('sb_session='))!.split(';')[0]!;
  const landing = await fetch(`${tool}${launch.headers.get('location')}`, { headers: { cookie: session }, redirect: 'manual' });
  await landing.arrayBuffer();
  const b1 = performance.now();
  return { total: b1 - t0, bridge: a1 - a0 + (b1 - b0) };
}

async function run(tool: string, moodle: LtiPlatform, clients: number, ms: number): Promise<Run> {
  const result: Run = { total: [], bridge: [], errors: 0, elapsedMs: 0 };
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() - start < ms) {
        try {
          const r = await oneLaunch(tool, moodle, next++ % USERS);
          result.total.push(r.total);
          result.bridge.push(r.bridge);
        } catch (err) {
          result.errors++;
          if (result.errors < 3) console.error(String(err));
        }
      }
    }),
  );
  result.elapsedMs = performance.now() - start;
  return result;
}

async function main(): Promise<void> {
  const dbName = `bench_lti_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const databaseUrl = new URL(baseUrl);
  databaseUrl.pathname = `/${dbName}`;
  const port = await freePort();
  const operator = `sbo_${randomBytes(32).toString('base64url')}`;
  let bridge: ChildProcess | undefined;
  const moodle = await new LtiPlatform({ redirectUri: `http://127.0.0.1:${port}/lti/launch` }).start();
  try {
    bridge = await startBridge(databaseUrl.toString(), port, operator);
    const tool = `http://127.0.0.1:${port}`;
    const api = (p: string, body: unknown, token = operator) =>
      fetch(`${tool}/api/v1${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
        if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
        return r.json() as Promise<Record<string, string>>;
      });
    await api('/tenants', { slug: 'bench', name: 'Benchmark-Schule' });
    const { token } = await api('/tenants/bench/tokens', { label: 'bench', scopes: ['admin'] });
    await api('/tenants/bench/platforms', moodle.registration('Moodle Bench'), token);

    console.log(`LTI launch benchmark: bridge pid ${bridge.pid} on PostgreSQL (${dbName}), ${seconds} s per level, ${USERS} users`);
    await run(tool, moodle, 8, 2000); // warm-up: JIT, pool, JWKS cache
    console.log('clients  launches  launches/s   p50 ms   p95 ms   p99 ms   bridge p50/p95 ms   errors   bridge CPU ms/launch');
    for (const clients of [1, 8, 32]) {
      const cpu0 = cpuMs(bridge.pid!);
      const r = await run(tool, moodle, clients, seconds * 1000);
      const cpuPerLaunch = (cpuMs(bridge.pid!) - cpu0) / Math.max(1, r.total.length);
      const total = [...r.total].sort((a, b) => a - b);
      const own = [...r.bridge].sort((a, b) => a - b);
      console.log(
        [
          String(clients).padStart(7),
          String(total.length).padStart(9),
          ((total.length / r.elapsedMs) * 1000).toFixed(0).padStart(11),
          percentile(total, 50).toFixed(1).padStart(8),
          percentile(total, 95).toFixed(1).padStart(8),
          percentile(total, 99).toFixed(1).padStart(8),
          `${percentile(own, 50).toFixed(1)}/${percentile(own, 95).toFixed(1)}`.padStart(19),
          String(r.errors).padStart(8),
          cpuPerLaunch.toFixed(2).padStart(21),
        ].join(' '),
      );
    }
    console.log(`platform JWKS fetched ${moodle.jwksRequests} time(s) in total; load average now ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    bridge?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await moodle.stop();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
