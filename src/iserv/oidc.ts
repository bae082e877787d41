/**
 * IServ as an OpenID provider, through openid-client: discovery (with IServ's
 * known endpoints as fallback), the authorization URL and the code exchange.
 */
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { IServConfig } from './store.js';

/** Where IServ serves OAuth2/OIDC on the school's host when no discovery document answers. */
export const ISERV_PATHS = {
  authorization_endpoint: '/iserv/oauth/v2/auth',
  token_endpoint: '/iserv/oauth/v2/token',
  userinfo_endpoint: '/iserv/public/oauth/userinfo',
  jwks_uri: '/iserv/public/jwk',
} as const;

const FALLBACK_CACHE_MS = 60_000;

export interface ProviderCacheOptions {
  /**
   * Plain-http IServ (and discovery) allowed: only outside production, and only
   * because the caller says so (tests, development), never by default.
   */
  allowHttp: boolean;
  /** How long a discovered configuration (with its JWKS cache) is reused. */
  cacheMs: number;
  timeoutSeconds: number;
  now: () => number;
  logger: Logger;
}

interface Cached {
  key: string;
  config: client.Configuration;
  until: number;
}

/** A failure of the IServ protocol, named so the page can say what happened. */
export class IServLoginError extends Error {
  constructor(
    readonly reason: 'wrong-issuer' | 'denied' | 'refused' | 'invalid-response' | 'unreachable' | 'insecure',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IServLoginError';
  }
}

export const discoveryUrl = (baseUrl: string) => new URL(`${baseUrl}/.well-known/openid-configuration`);

/**
 * One openid-client Configuration per tenant, cached: the discovery document
 * and the JWKS are fetched once, not on every login. A changed tenant config
 * (updatedAt) makes a new one.
 */
export class IServProviders {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly options: ProviderCacheOptions) {}

  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  async configuration(c: IServConfig): Promise<client.Configuration> {
    const key = `${c.updatedAt.toISOString()}|${c.baseUrl}|${c.issuer ?? ''}|${c.clientId}`;
    const cached = this.cache.get(c.tenantId);
    if (cached && cached.key === key && cached.until > this.options.now()) return cached.config;
    if (new URL(c.baseUrl).protocol !== 'https:' && !this.options.allowHttp) {
      throw new IServLoginError('insecure', 'IServ is configured with plain http, which is refused outside development (SEC-02)');
    }
    const plainHttp = new URL(c.baseUrl).protocol === 'http:';
    if (plainHttp) this.options.logger.warn({ tenantId: c.tenantId }, 'IServ over plain http: allowed only because the service runs in development/test mode');
    const { config, discovered } = await this.discover(c);
    if (plainHttp) client.allowInsecureRequests(config);
    // The id_token's signature is checked against IServ's JWKS as well, not only its claims.
    client.enableNonRepudiationChecks(config);
    // A fallback after a failed discovery is kept only briefly: the failure may have been passing.
    const ttl = discovered ? this.options.cacheMs : Math.min(this.options.cacheMs, FALLBACK_CACHE_MS);
    this.cache.set(c.tenantId, { key, config, until: this.options.now() + ttl });
    return config;
  }

  private async discover(c: IServConfig): Promise<{ config: client.Configuration; discovered: boolean }> {
    const execute = new URL(c.baseUrl).protocol === 'http:' ? [client.allowInsecureRequests] : [];
    try {
      // The document's URL is given (not the issuer): IServ's issuer need not be the base URL.
      const config = await client.discovery(discoveryUrl(c.baseUrl), c.clientId, c.clientSecret, undefined, {
        execute,
        timeout: this.options.timeoutSeconds,
      });
      const metadata = config.serverMetadata();
      if (c.issuer && metadata.issuer !== c.issuer) {
        throw new IServLoginError('wrong-issuer', 'the discovery document names another issuer than configured');
      }
      return { config: this.build(metadata, c), discovered: true };
    } catch (error) {
      if (error instanceof IServLoginError) throw error;
      this.options.logger.warn({ tenantId: c.tenantId, err: { code: errorCode(error) } }, 'IServ discovery failed; using the known IServ endpoints');
    }
    const metadata: client.ServerMetadata = {
      issuer: c.issuer ?? c.baseUrl,
      ...Object.fromEntries(Object.entries(ISERV_PATHS).map(([k, path]) => [k, `${c.baseUrl}${path}`])),
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    };
    return { config: this.build(metadata, c), discovered: false };
  }

  /** client_secret_basic (OAuth's default) unless IServ says it only takes the secret in the body. */
  private build(metadata: client.ServerMetadata, c: IServConfig): client.Configuration {
    const methods = metadata.token_endpoint_auth_methods_supported;
    const auth = !methods || methods.includes('client_secret_basic') || !methods.includes('client_secret_post') ? client.ClientSecretBasic() : client.ClientSecretPost();
    const config = new client.Configuration(metadata, c.clientId, c.clientSecret, auth);
    config.timeout = this.options.timeoutSeconds;
    return config;
  }
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export async function authorizationRequest(config: client.Configuration, redirectUri: string, scopes: string): Promise<AuthorizationRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: scopes,
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, state, nonce, codeVerifier };
}

export interface CodeExchange {
  issuer: string;
  userinfo: Record<string, unknown>;
}

/** Validates IServ's answer (iss, state, PKCE, nonce, id_token signature and claims), then fetches userinfo. */
export async function exchangeCode(
  config: client.Configuration,
  currentUrl: URL,
  checks: { state: string; nonce: string; codeVerifier: string },
): Promise<CodeExchange> {
  try {
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new IServLoginError('invalid-response', 'no id_token');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    return { issuer: config.serverMetadata().issuer, userinfo: userinfo as Record<string, unknown> };
  } catch (error) {
    throw classify(error);
  }
}

/** Maps openid-client's errors to what the person is told. */
export function classify(error: unknown): IServLoginError {
  if (error instanceof IServLoginError) return error;
  if (error instanceof client.AuthorizationResponseError) {
    return error.error === 'access_denied'
      ? new IServLoginError('denied', 'the person did not consent', { cause: error.error })
      : new IServLoginError('refused', 'IServ answered with an error', { cause: error.error });
  }
  if (error instanceof client.ClientError && error.code === undefined) {
    // openid-client's wrapper around a failure it does not know (e.g. a network error from another realm).
    return new IServLoginError('unreachable', 'IServ could not be reached', { cause: errorCode(error.cause) });
  }
  if (error instanceof client.ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) {
    return new IServLoginError('unreachable', 'IServ did not answer in time', { cause: error.code });
  }
  if (error instanceof client.ClientError && error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && ((error.cause as { status?: number } | undefined)?.status ?? 0) >= 500) {
    return new IServLoginError('unreachable', 'IServ answered with a server error', { cause: error.code });
  }
  if (error instanceof client.ClientError) {
    const cause = error.cause as { message?: string; cause?: { claim?: string } } | undefined;
    const aboutIssuer = cause?.cause?.claim === 'iss' || /"iss" \(issuer\)/.test(cause?.message ?? '');
    if (aboutIssuer) return new IServLoginError('wrong-issuer', 'the answer comes from another issuer', { cause: error.code });
    return new IServLoginError('invalid-response', 'IServ answered in an unexpected way', { cause: error.code });
  }
  if (error instanceof client.ResponseBodyError) {
    return new IServLoginError('invalid-response', 'IServ refused the code', { cause: error.error });
  }
  return new IServLoginError('unreachable', 'IServ could not be reached', { cause: errorCode(error) });
}

function errorCode(error: unknown): string {
  const e = error as { code?: string; name?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? e?.name ?? 'unknown';
}
