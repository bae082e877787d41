import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { AuditLog, ensureLogPartitions, LOG_TABLES } from './audit/index.js';
import { resolveEncryptionKey, resolveOperatorToken } from './bootstrap.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { hashToken, SecretBox } from './crypto/secrets.js';
import { openDatabase, type Database } from './db/index.js';
import { migrateToLatest } from './db/migrations.js';
import { createMetrics } from './ops/metrics.js';
import { mounts, privacyProviders, retentionCategories } from './modules.js';
import { PrivacyRegistry } from './privacy/registry.js';
import { RetentionRegistry } from './retention/registry.js';
import { systemClock, type Clock } from './shared/clock.js';

export interface ContextOptions {
  config: Config;
  logger: Logger;
  database: Database;
  clock?: Clock;
  encryptionKey: Buffer;
  operatorToken: string;
}

/** Wires the modules together; the same for the service, the jobs CLI and tests. */
export function buildContext(options: ContextOptions): AppContext {
  const clock = options.clock ?? systemClock;
  const privacy = new PrivacyRegistry();
  for (const provider of privacyProviders) privacy.register(provider);
  const retention = new RetentionRegistry();
  for (const category of retentionCategories) retention.register(category);
  return {
    config: options.config,
    database: options.database,
    db: options.database.db,
    clock,
    logger: options.logger,
    secrets: new SecretBox(options.encryptionKey),
    audit: new AuditLog(options.database.db, clock, options.logger),
    metrics: createMetrics(),
    privacy,
    retention,
    operatorTokenHash: hashToken(options.operatorToken),
  };
}

export interface RunningService {
  ctx: AppContext;
  server: Server;
  url: string;
  operatorTokenFile: string | null;
  stop(): Promise<void>;
}

/** Opens the store, migrates, listens; `stop()` drains in-flight requests and closes everything. */
export async function startService(config: Config, logger: Logger, clock?: Clock): Promise<RunningService> {
  const encryptionKey = resolveEncryptionKey(config, logger);
  const operator = resolveOperatorToken(config, logger);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  try {
    const applied = await migrateToLatest(database.db, database.lockNamespace);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const ctx = buildContext({ config, logger, database, encryptionKey, operatorToken: operator.token, ...(clock ? { clock } : {}) });
    await ensureLogPartitions(ctx.db, ctx.clock.now(), LOG_TABLES);
    const app = createApp(ctx, mounts);
    const server = createServer(app);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
        await ctx.audit.close();
        await database.close();
      })());
    return { ctx, server, url, operatorTokenFile: operator.file, stop };
  } catch (error) {
    await database.close();
    throw error;
  }
}
