import { z } from 'zod';

export const CHECKSUM_ALGORITHMS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

/** A BigBlueButton server: base URL (…/bigbluebutton) and its shared secret. */
export const bbbInput = z
  .object({
    kind: z.literal('bbb'),
    baseUrl: httpUrl.describe('e.g. https://bbb.example.org/bigbluebutton'),
    secret: z.string().min(16).max(512).optional().describe('Shared secret (bbb-conf --secret); omit on update to keep the stored one'),
    checksumAlgorithm: z.enum(CHECKSUM_ALGORITHMS).default('sha256'),
  })
  .strict();

/** A Jitsi Meet deployment with token authentication (prosody token_verification). */
export const jitsiInput = z
  .object({
    kind: z.literal('jitsi'),
    domain: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, { message: 'Hostname, z. B. meet.example.org' }),
    appId: z.string().min(1).max(200),
    audience: z.string().min(1).max(200).default('jitsi'),
    alg: z.enum(['HS256', 'RS256']).default('HS256'),
    secret: z.string().min(32).max(16384).optional().describe('HS256 app secret, or the RS256 private key (PEM); omit on update to keep it'),
    kid: z.string().min(1).max(200).optional().describe('RS256 key id as published at the ASAP key URL'),
  })
  .strict()
  .refine((j) => j.alg !== 'RS256' || j.kid, { message: 'RS256 braucht eine kid', path: ['kid'] });

export const backendInput = z.discriminatedUnion('kind', [bbbInput, jitsiInput]);
export type BackendInput = z.output<typeof backendInput>;

export type BbbConfig = { kind: 'bbb'; baseUrl: string; checksumAlgorithm: (typeof CHECKSUM_ALGORITHMS)[number] };
export type JitsiConfig = { kind: 'jitsi'; domain: string; appId: string; audience: string; alg: 'HS256' | 'RS256'; kid?: string | undefined };
export type BackendConfig = BbbConfig | JitsiConfig;

/** A backend ready to use: config plus the opened secret. Never serialise this. */
export type Backend = BackendConfig & { name: string; tenantId: string; secret: string };
