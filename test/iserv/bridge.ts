/** The bridge listening on 127.0.0.1 (IServ must redirect a browser to it), with its logs captured. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.js';
import { ensureLogPartitions, LOG_TABLES } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config.js';
import { newToken } from '../../src/crypto/secrets.js';
import type { Database } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { mounts } from '../../src/modules.js';
import { buildContext } from '../../src/service.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { TestApp } from '../harness/app.js';

export interface RunningBridge extends TestApp {
  url: string;
  /** Every log line the service wrote (JSON). */
  logs: string[];
  close(): Promise<void>;
}

export async function startBridge(database: Database, env: 'test' | 'production' = 'test'): Promise<RunningBridge> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const clock = new ManualClock('2026-11-22T08:00:00Z');
  const operatorToken = newToken('sbo');
  // A production bridge must have an https address (SEC-02); its port is never used by these tests.
  const config = loadConfig({ NODE_ENV: env, PUBLIC_URL: env === 'production' ? 'https://bridge.example' : url, LOG_LEVEL: 'debug' });
  const ctx = buildContext({ config, logger: createLogger('debug', sink), database, clock, encryptionKey: randomBytes(32), operatorToken });
  await ensureLogPartitions(ctx.db, clock.now(), LOG_TABLES, 7);
  const app = createApp(ctx, mounts);
  server.on('request', app);
  return {
    app,
    ctx,
    clock,
    operatorToken,
    auth: (token = operatorToken) => ({ Authorization: `Bearer ${token}` }),
    url,
    logs,
    async close() {
      await ctx.audit.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
