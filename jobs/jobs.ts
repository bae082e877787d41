import type { AppContext } from '../src/context.js';
import { housekeeping } from '../src/housekeeping.js';
import {
  logCategories,
  recordRun,
  runCategories,
  sessionsCategory,
  withJobLock,
  type RetentionCategory,
  type RunRecord,
} from '../src/retention/index.js';

export const JOB_NAMES = ['logs', 'retention', 'sessions'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface Job {
  name: JobName;
  description: string;
  categories(ctx: AppContext): readonly RetentionCategory[];
}

/** Each job is a thin wrapper: lock, run categories from src/, protocol. */
export const JOBS: Record<JobName, Job> = {
  logs: {
    name: 'logs',
    description: 'Log partitions: create ahead, drop expired days, purge tenants with shorter periods (RET-01, RET-02, RET-03)',
    categories: () => logCategories,
  },
  retention: {
    name: 'retention',
    description: 'Every registered retention category (RET-04…RET-11 as registered by the modules)',
    categories: (ctx) => ctx.retention.all(),
  },
  sessions: {
    name: 'sessions',
    description: 'Expired and idle browser sessions, LTI and IServ login state (SEC-03); retries of interrupted data-subject requests',
    categories: () => [sessionsCategory, ...housekeeping],
  },
};

export interface JobReport {
  job: JobName;
  status: 'ok' | 'error' | 'locked';
  dryRun: boolean;
  now: Date;
  steps: RunRecord[];
}

export interface RunJobOptions {
  dryRun?: boolean;
  /** Only this category (by name). */
  only?: string;
  /** Defaults to ctx.clock.now(). */
  now?: Date;
  /** Categories to run instead of the job's own (tests). */
  categories?: readonly RetentionCategory[];
}

/**
 * Runs one job now. Two instances never run the same job at once: the second
 * finds the lock taken and records `locked`. A dry run changes nothing and
 * writes no protocol; it reports what would be done.
 */
export async function runJob(ctx: AppContext, name: JobName, options: RunJobOptions = {}): Promise<JobReport> {
  const job = JOBS[name];
  if (ctx.database.kind === 'postgres' && ctx.config.databasePoolSize < 2) {
    // The lock pins one connection for the run; the work needs another.
    throw new Error('jobs need DATABASE_POOL_SIZE >= 2 on PostgreSQL');
  }
  const categories = options.categories ?? job.categories(ctx);
  if (options.only && !categories.some((c) => c.name === options.only)) {
    throw new Error(`job ${name} has no category ${options.only}; it has: ${categories.map((c) => c.name).join(', ') || '(none)'}`);
  }
  const now = options.now ?? ctx.clock.now();
  const dryRun = options.dryRun ?? false;
  const steps: RunRecord[] = [];
  const record = async (run: Omit<RunRecord, 'job'>) => {
    const full = { job: name, ...run };
    steps.push(full);
    if (!dryRun) await recordRun(ctx.db, full);
  };
  const result = await withJobLock(ctx.database, name, () =>
    runCategories(ctx, categories, { now, dryRun, ...(options.only ? { only: options.only } : {}) }, record),
  );
  if (!result.acquired) {
    const locked: RunRecord = { job: name, ruleId: null, category: null, tenantId: null, cutoff: null, deleted: 0, details: {}, startedAt: now, durationMs: 0, outcome: 'locked', error: null };
    if (!dryRun) await recordRun(ctx.db, locked);
    return { job: name, status: 'locked', dryRun, now, steps: [locked] };
  }
  return { job: name, status: result.value.errors ? 'error' : 'ok', dryRun, now, steps };
}

/** Human-readable lines for the CLI: counts, cutoffs and codes only. */
export function formatReport(report: JobReport): string {
  const lines = [`${report.dryRun ? 'DRY RUN (nichts geändert) ' : ''}job=${report.job} status=${report.status} now=${report.now.toISOString()}`];
  for (const s of report.steps) {
    const details = Object.entries(s.details)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `  ${s.ruleId ?? '-'} ${s.category ?? '-'} tenant=${s.tenantId ?? '*'} cutoff=${s.cutoff?.toISOString() ?? '-'} ${report.dryRun ? 'would-delete' : 'deleted'}=${s.deleted} ${details} outcome=${s.outcome}${s.error ? ` error=${s.error}` : ''} ${Math.round(s.durationMs)}ms`,
    );
  }
  if (report.steps.length === 0) lines.push('  (nothing due)');
  return lines.join('\n');
}
