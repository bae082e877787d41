/**
 * `npm run jobs -- run <job> [--dry-run] [--category <name>]` runs one job now
 * and prints what it did (or, with --dry-run, would do).
 * `npm run jobs -- list` lists the jobs and their schedules.
 */
import { resolveEncryptionKey, resolveOperatorToken } from '../src/bootstrap.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrations.js';
import { createLogger } from '../src/logger.js';
import { buildContext } from '../src/service.js';
import { formatReport, JOB_NAMES, JOBS, runJob, type JobName } from './jobs.js';

function usage(): never {
  console.error(`Aufruf / usage:
  npm run jobs -- list
  npm run jobs -- run <${JOB_NAMES.join('|')}> [--dry-run] [--category <name>]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (command === 'list') {
    for (const name of JOB_NAMES) console.log(`${name.padEnd(10)} ${config.jobSchedules[name].padEnd(14)} ${JOBS[name].description}`);
    return;
  }
  if (command !== 'run') usage();
  const name = rest[0] as JobName | undefined;
  if (!name || !JOB_NAMES.includes(name)) usage();
  const dryRun = rest.includes('--dry-run');
  const categoryAt = rest.indexOf('--category');
  const only = categoryAt >= 0 ? rest[categoryAt + 1] : undefined;
  if (categoryAt >= 0 && !only) usage();

  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: Math.max(2, Math.min(config.databasePoolSize, 4)) });
  try {
    await migrateToLatest(database.db, database.lockNamespace);
    const ctx = buildContext({
      config,
      logger,
      database,
      encryptionKey: resolveEncryptionKey(config, logger),
      operatorToken: resolveOperatorToken(config, logger).token,
    });
    let report;
    try {
      report = await runJob(ctx, name, { dryRun, ...(only ? { only } : {}) });
    } catch (error) {
      await ctx.audit.close();
      console.error((error as Error).message);
      process.exitCode = 2;
      return;
    }
    await ctx.audit.close();
    console.log(formatReport(report));
    if (report.status === 'error') process.exitCode = 1;
    if (report.status === 'locked') process.exitCode = 3;
  } finally {
    await database.close();
  }
}

await main();
