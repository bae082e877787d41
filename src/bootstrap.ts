import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ConfigError } from './config.js';
import { newToken } from './crypto/secrets.js';

/** Reads a file we generated earlier, or creates it (mode 0600) with `make()`. */
function readOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

/**
 * The AES-256-GCM key for secrets at rest. With a PostgreSQL server every
 * instance must share it, so it has to come from the environment; embedded,
 * it is generated once into DATA_DIR.
 */
export function resolveEncryptionKey(config: Config, logger: Logger): Buffer {
  if (config.encryptionKey) return Buffer.from(config.encryptionKey, 'base64');
  if (config.databaseUrl) {
    throw new ConfigError(['ENCRYPTION_KEY: required with DATABASE_URL (all instances must share it); generate one with: openssl rand -base64 32']);
  }
  const file = path.resolve(config.dataDir, 'encryption-key');
  const { value, created } = readOrCreate(file, () => randomBytes(32).toString('base64'));
  if (created) logger.warn({ file }, 'ENCRYPTION_KEY not set: generated one into the data directory; back it up with the database, or set ENCRYPTION_KEY');
  return Buffer.from(value, 'base64');
}

/** OPERATOR_TOKEN, or a random one written once to DATA_DIR/operator-token. The token itself is never logged. */
export function resolveOperatorToken(config: Config, logger: Logger): { token: string; file: string | null } {
  if (config.operatorToken) return { token: config.operatorToken, file: null };
  const file = path.resolve(config.dataDir, 'operator-token');
  const { value, created } = readOrCreate(file, () => newToken('sbo'));
  logger.info({ file, created }, 'operator credential is in this file (mode 0600)');
  return { token: value, file };
}
