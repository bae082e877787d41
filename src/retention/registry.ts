import type { AppContext } from '../context.js';

export interface RetentionRunOptions {
  now: Date;
  dryRun: boolean;
}

/** What one category's run did (or would do): counts only, never personal data. */
export interface RetentionOutcome {
  tenantId: string | null;
  /** The instant before which data was due. */
  cutoff: Date | null;
  deleted: number;
  details?: Record<string, number | string>;
}

/**
 * A retention category: a module says what expires and how to remove it; the
 * retention jobs run every category, under a lock, and write the protocol.
 */
export interface RetentionCategory {
  /** POLICY_CATALOGUE id, e.g. 'RET-05'. */
  ruleId: string;
  /** Stable name, e.g. 'recordings'. */
  name: string;
  run(ctx: AppContext, options: RetentionRunOptions): Promise<RetentionOutcome[]>;
}

export class RetentionRegistry {
  private readonly categories: RetentionCategory[] = [];
  register(category: RetentionCategory): void {
    if (this.categories.some((c) => c.name === category.name)) throw new Error(`retention category ${category.name} registered twice`);
    this.categories.push(category);
  }
  all(): readonly RetentionCategory[] {
    return this.categories;
  }
}
