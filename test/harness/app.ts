import type { Express } from 'express';
import { createApp, type Mount } from '../../src/app.js';
import { mounts as moduleMounts } from '../../src/modules.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import { newToken } from '../../src/crypto/secrets.js';
import { createLogger } from '../../src/logger.js';
import { buildContext } from '../../src/service.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { Database } from '../../src/db/index.js';
import { ensureLogPartitions, LOG_TABLES } from '../../src/audit/index.js';
import { randomBytes } from 'node:crypto';

export interface TestApp {
  app: Express;
  ctx: AppContext;
  clock: ManualClock;
  operatorToken: string;
  auth: (token?: string) => { Authorization: string };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://bridge.test', LOG_LEVEL: 'silent', ...overrides });
}

/** The real app over a real test database, with a clock the test can move. */
export async function createTestApp(database: Database, options: { mounts?: Mount[]; clock?: ManualClock; config?: Config } = {}): Promise<TestApp> {
  const clock = options.clock ?? new ManualClock('2026-11-22T08:00:00Z');
  const operatorToken = newToken('sbo');
  const config = options.config ?? testConfig();
  const ctx = buildContext({
    config,
    logger: createLogger('silent'),
    database,
    clock,
    encryptionKey: randomBytes(32),
    operatorToken,
  });
  await ensureLogPartitions(ctx.db, clock.now(), LOG_TABLES, 7);
  const app = createApp(ctx, options.mounts ?? moduleMounts);
  return {
    app,
    ctx,
    clock,
    operatorToken,
    auth: (token = operatorToken) => ({ Authorization: `Bearer ${token}` }),
  };
}
