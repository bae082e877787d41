/**
 * Jitsi Meet tokens (prosody token_verification) signed with jose: one person,
 * one room, valid for minutes (VC-02); pseudonymous id and display name only
 * (VC-12); moderator only for teachers; recording/livestreaming/transcription
 * features off unless VC-05 allows.
 */
import { randomBytes, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import type { Obligations } from './policy.js';

export interface JitsiServer {
  name: string;
  domain: string;
  appId: string;
  audience: string;
  alg: 'HS256' | 'RS256';
  kid?: string | undefined;
  /** HS256 secret, or RS256 private key (PKCS#8 PEM). */
  secret: string;
}

export const JITSI_TOKEN_MINUTES = 5;

/** A random, unguessable, lowercase room name (160 bits, base32). */
export function newJitsiRoomName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

const keyCache = new Map<string, Promise<KeyObject | Awaited<ReturnType<typeof importPKCS8>>>>();

function signingKey(server: JitsiServer): Promise<KeyObject | Awaited<ReturnType<typeof importPKCS8>>> {
  const cacheKey = `${server.alg}:${server.secret}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = server.alg === 'HS256' ? Promise.resolve(createSecretKey(Buffer.from(server.secret, 'utf8'))) : importPKCS8(server.secret, 'RS256');
    if (keyCache.size > 100) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

export interface JitsiTokenInput {
  room: string;
  userId: string;
  displayName: string;
  obligations: Obligations;
  now: Date;
  validMinutes?: number;
}

export async function jitsiToken(server: JitsiServer, input: JitsiTokenInput): Promise<string> {
  const nowSec = Math.floor(input.now.getTime() / 1000);
  const minutes = input.validMinutes ?? JITSI_TOKEN_MINUTES;
  const o = input.obligations;
  const flag = (b: boolean) => (b ? 'true' : 'false');
  const header = server.alg === 'RS256' ? { alg: 'RS256', typ: 'JWT', kid: server.kid! } : { alg: 'HS256', typ: 'JWT' };
  return new SignJWT({
    room: input.room,
    context: {
      user: {
        id: input.userId,
        name: input.displayName,
        // token_affiliation / JaaS read these; strings only (lib-jitsi-meet rejects other types).
        moderator: flag(o.moderator),
        affiliation: o.moderator ? 'owner' : 'member',
      },
      features: {
        recording: flag(o.moderator && o.features.recording),
        livestreaming: flag(o.moderator && o.features.livestreaming),
        transcription: flag(o.moderator && o.features.transcription),
      },
    },
  })
    .setProtectedHeader(header)
    .setIssuer(server.appId)
    .setAudience(server.audience)
    .setSubject(server.domain)
    .setIssuedAt(nowSec)
    .setNotBefore(nowSec - 10)
    .setExpirationTime(nowSec + minutes * 60)
    .sign(await signingKey(server));
}
