import cron, { type ScheduledTask } from 'node-cron';
import type { AppContext } from '../src/context.js';
import { safeErrorText } from '../src/retention/index.js';
import { JOB_NAMES, runJob, type JobName } from './jobs.js';

export interface Scheduler {
  /** Stops scheduling and waits for runs in progress. */
  stop(): Promise<void>;
}

/** Schedules every job with node-cron (UTC); schedules come from the configuration. */
export function startJobs(ctx: AppContext, schedules: Record<JobName, string>): Scheduler {
  const inFlight = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  for (const name of JOB_NAMES) {
    const task = cron.schedule(
      schedules[name],
      () => {
        const run = runJob(ctx, name)
          .then((report) => ctx.logger.info({ job: name, status: report.status, steps: report.steps.length }, 'job finished'))
          .catch((error: unknown) => ctx.logger.error({ job: name, err: safeErrorText(error) }, 'job failed'))
          .finally(() => inFlight.delete(run));
        inFlight.add(run);
        return run;
      },
      { name: `schulbruecke-${name}-${ctx.database.lockNamespace}`, timezone: 'UTC', noOverlap: true },
    );
    tasks.push(task);
  }
  return {
    async stop() {
      for (const task of tasks) await task.destroy();
      await Promise.allSettled([...inFlight]);
    },
  };
}
