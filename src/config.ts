import { validate as validCron } from 'node-cron';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable the service reads, validated once at start. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    DATA_DIR: z.string().min(1).default('./data'),
    ENCRYPTION_KEY: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
      .optional(),
    OPERATOR_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    LOG_LEVEL: z.enum(logLevels).default('info'),
    TRUST_PROXY: z.string().default('loopback'),
    JOBS: z.enum(['on', 'off']).default('on'),
    /** Cron expressions (UTC) of the jobs; see docs/retention.md. */
    JOBS_SCHEDULE_LOGS: z.string().refine(validCron, 'not a valid cron expression').default('5 * * * *'),
    JOBS_SCHEDULE_RETENTION: z.string().refine(validCron, 'not a valid cron expression').default('20 * * * *'),
    JOBS_SCHEDULE_SESSIONS: z.string().refine(validCron, 'not a valid cron expression').default('*/15 * * * *'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10000),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.PUBLIC_URL?.startsWith('http://') && !isLoopbackUrl(env.PUBLIC_URL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: 'must be https:// in production (SEC-02); use NODE_ENV=development for plain http',
      });
    }
  });

export type Env = z.infer<typeof configSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  /** Where browsers and platforms reach us; derived from HOST/PORT when not set. */
  publicUrl: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  /** base64; resolved to a key by `loadSecrets` (generated in embedded mode). */
  encryptionKey: string | undefined;
  operatorToken: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  trustProxy: string;
  jobs: boolean;
  /** Cron expressions (UTC) per job. */
  jobSchedules: { logs: string; retention: string; sessions: string };
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/** Reads and validates the environment; throws one ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const env = parsed.data;
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    dataDir: env.DATA_DIR,
    encryptionKey: env.ENCRYPTION_KEY,
    operatorToken: env.OPERATOR_TOKEN,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    jobs: env.JOBS === 'on',
    jobSchedules: { logs: env.JOBS_SCHEDULE_LOGS, retention: env.JOBS_SCHEDULE_RETENTION, sessions: env.JOBS_SCHEDULE_SESSIONS },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  };
}
