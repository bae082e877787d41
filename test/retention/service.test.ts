import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';
import { testConfig } from '../harness/app.js';

describe('the service starts the jobs with JOBS=on and stops them on shutdown', () => {
  test('a scheduled job writes its protocol while the service runs; stop() ends the jobs and the service cleanly', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'schulbruecke-jobs-'));
    try {
      const config = testConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', JOBS: 'on', JOBS_SCHEDULE_SESSIONS: '* * * * * *', JOBS_SCHEDULE_LOGS: '0 0 1 1 *', JOBS_SCHEDULE_RETENTION: '0 0 1 1 *' });
      const service = await startService(config, createLogger('silent'));
      const runs = async () => (await service.ctx.db.selectFrom('retention_runs').select(['job', 'outcome']).execute()).filter((r) => r.job === 'sessions');
      let seen = 0;
      for (let i = 0; i < 40 && seen === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = (await runs()).length;
      }
      expect(seen).toBeGreaterThan(0);
      expect((await runs()).every((r) => r.outcome === 'ok')).toBe(true);
      await service.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('JOBS=off starts no jobs; an invalid schedule is refused at start', () => {
    expect(testConfig({ JOBS: 'off' }).jobs).toBe(false);
    expect(() => testConfig({ JOBS_SCHEDULE_LOGS: 'every hour' })).toThrow(/JOBS_SCHEDULE_LOGS/);
  });
});
