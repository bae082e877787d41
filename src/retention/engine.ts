import type { AppContext } from '../context.js';
import { safeErrorText, type RunRecord } from './protocol.js';
import type { RetentionCategory, RetentionOutcome } from './registry.js';

export interface EngineOptions {
  now: Date;
  dryRun: boolean;
  /** Only this category (by name). */
  only?: string;
}

export type Record_ = (run: Omit<RunRecord, 'job'>) => Promise<void>;

/**
 * Runs categories one after another. A failing category is recorded and the
 * others still run; each category is idempotent (it re-reads what is due), so
 * a run cut short is completed by the next one.
 */
export async function runCategories(
  ctx: AppContext,
  categories: readonly RetentionCategory[],
  options: EngineOptions,
  record: Record_,
): Promise<{ outcomes: (RetentionOutcome & { category: string; ruleId: string })[]; errors: number }> {
  const outcomes: (RetentionOutcome & { category: string; ruleId: string })[] = [];
  let errors = 0;
  for (const category of categories) {
    if (options.only && category.name !== options.only) continue;
    const startedAt = ctx.clock.now();
    const t0 = performance.now();
    try {
      const results = await category.run(ctx, { now: options.now, dryRun: options.dryRun });
      const durationMs = performance.now() - t0;
      for (const r of results) {
        outcomes.push({ ...r, category: category.name, ruleId: category.ruleId });
        await record({
          ruleId: category.ruleId,
          category: category.name,
          tenantId: r.tenantId,
          cutoff: r.cutoff,
          deleted: r.deleted,
          details: r.details ?? {},
          startedAt,
          durationMs,
          outcome: 'ok',
          error: null,
        });
      }
    } catch (error) {
      errors++;
      ctx.logger.error({ category: category.name, err: safeErrorText(error) }, 'retention category failed');
      await record({
        ruleId: category.ruleId,
        category: category.name,
        tenantId: null,
        cutoff: null,
        deleted: 0,
        details: {},
        startedAt,
        durationMs: performance.now() - t0,
        outcome: 'error',
        error: safeErrorText(error),
      });
    }
  }
  return { outcomes, errors };
}
