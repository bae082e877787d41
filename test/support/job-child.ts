/**
 * A second service instance for tests: runs one job against an existing schema
 * on PostgreSQL, so a test can kill it half-way (SIGKILL) and check what remains.
 *   node --import tsx test/support/job-child.ts <url> <schema> <job> [category]
 */
import { randomBytes } from 'node:crypto';
import { runJob, type JobName } from '../../jobs/index.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { buildContext } from '../../src/service.js';

const [url, schema, job, only] = process.argv.slice(2);
if (!url || !schema || !job) throw new Error('usage: job-child <url> <schema> <job> [category]');
const database = await openDatabase({ url, schema, poolSize: 3 });
const ctx = buildContext({
  config: loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://bridge.test', LOG_LEVEL: 'silent' }),
  logger: createLogger('silent'),
  database,
  encryptionKey: randomBytes(32),
  operatorToken: randomBytes(24).toString('hex'),
});
process.stdout.write('started\n');
const report = await runJob(ctx, job as JobName, only ? { only } : {});
process.stdout.write(`${report.status}\n`);
await ctx.audit.close();
await database.close();
