import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../src/shared/clock.js';

interface Entry {
  fetchedAt: number;
  getKey: JWTVerifyGetKey;
  kids: Set<string>;
  pending?: Promise<void>;
}

/**
 * Platform key sets, cached per URL: a launch does not fetch the platform's JWKS again
 * while it is fresh (10 min), and refetches at once when a token names an unknown `kid`
 * (key rotation), at most once per cooldown so unknown kids cannot make us hammer the platform.
 */
export class JwksCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly options: { maxAgeMs?: number; cooldownMs?: number; timeoutMs?: number } = {},
  ) {}

  async keyFor(url: string, kid: string | undefined): Promise<JWTVerifyGetKey> {
    const now = this.clock.now().getTime();
    let entry = this.entries.get(url);
    const stale = !entry || now - entry.fetchedAt > (this.options.maxAgeMs ?? 600_000);
    const unknownKid = entry && kid !== undefined && !entry.kids.has(kid) && now - entry.fetchedAt >= (this.options.cooldownMs ?? 5_000);
    if (stale || unknownKid) {
      await this.refresh(url);
      entry = this.entries.get(url);
    }
    return entry!.getKey;
  }

  private async refresh(url: string): Promise<void> {
    const existing = this.entries.get(url);
    if (existing?.pending) return existing.pending;
    const pending = (async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
      const jwks = (await res.json()) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error('JWKS without keys');
      this.entries.set(url, {
        fetchedAt: this.clock.now().getTime(),
        getKey: createLocalJWKSet(jwks),
        kids: new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
      });
    })();
    if (existing) existing.pending = pending;
    try {
      await pending;
    } finally {
      if (existing) existing.pending = undefined;
    }
  }
}
