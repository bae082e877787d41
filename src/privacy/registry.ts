import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/** The person whose data is meant: pseudonymous ids only. */
export interface DataSubject {
  tenantId: string;
  userId: string;
}

/** One category of personal data a module holds (the processing record a DPO keeps). */
export interface DataCategory {
  /** Stable key, e.g. `identity.users`. */
  category: string;
  /** Table and the columns that hold personal data; `userColumns` link rows to a user. */
  table: string;
  userColumns: string[];
  fields: string[];
  purpose: { de: string; en: string };
  /** POLICY_CATALOGUE id that governs how long it is kept. */
  retentionRule: string;
  legalBasis?: string;
}

export interface CategoryResult {
  category: string;
  deleted: number;
  /** Rows kept because a rule requires it, restricted instead of deleted. */
  kept: number;
  keptBecause?: string;
}

/**
 * Moodle's privacy-API contract over our own tables: each module that stores
 * personal data describes it, exports it and erases it. Retention (left-school
 * accounts, RET-07), data-subject requests (DSR-01…03) and the completeness
 * test all use this one registry.
 */
export interface PrivacyProvider {
  name: string;
  describe(): DataCategory[];
  /** Yields rows per category; large categories should page through their table. */
  export(db: Kysely<DB>, subject: DataSubject): AsyncIterable<{ category: string; row: Record<string, unknown> }>;
  /** Deletes (or restricts) everything about the subject. Runs inside the caller's transaction. */
  erase(trx: Kysely<DB>, subject: DataSubject): Promise<CategoryResult[]>;
}

export class PrivacyRegistry {
  private readonly providers = new Map<string, PrivacyProvider>();

  register(provider: PrivacyProvider): void {
    if (this.providers.has(provider.name)) throw new Error(`privacy provider ${provider.name} registered twice`);
    this.providers.set(provider.name, provider);
  }

  all(): PrivacyProvider[] {
    return [...this.providers.values()];
  }

  describe(): DataCategory[] {
    return this.all().flatMap((p) => p.describe());
  }
}

/**
 * Runs every provider's erase for the subject, later-registered modules first, so
 * the identity module (registered first, owner of `users`) goes last.
 */
export async function eraseSubject(registry: PrivacyRegistry, trx: Kysely<DB>, subject: DataSubject): Promise<CategoryResult[]> {
  const results: CategoryResult[] = [];
  for (const provider of registry.all().reverse()) results.push(...(await provider.erase(trx, subject)));
  return results;
}
