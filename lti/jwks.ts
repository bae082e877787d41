import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../src/shared/clock.js';

interface Entry {
  fetchedAt: number;
  getKey: JWTVerifyGetKey;
  kids: Set<string>;
}

/**
 * Platform key sets, cached per URL: a launch does not fetch the platform's JWKS again
 * while it is fresh (10 min), and refetches at once when a token names an unknown `kid`
 * (key rotation), at most once per cooldown so unknown kids cannot make us hammer the platform.
 */
export class JwksCache {
  private readonly entries = new Map<string, Entry>();
  /** One fetch per URL at a time: concurrent launches wait for the same answer. */
  private readonly pending = new Map<string, Promise<void>>();

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
    const running = this.pending.get(url);
    if (running) return running;
    const fetching = (async () => {
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
    this.pending.set(url, fetching);
    try {
      await fetching;
    } finally {
      this.pending.delete(url);
    }
  }
}
