/**
 * A real OpenID provider (oidc-provider) set up the way IServ is: IServ's
 * endpoint paths on the school's host, scopes `openid profile email uuid groups
 * roles`, claims `uuid`, `name`, `preferred_username`, `email`, `groups[]`
 * ({act, name}) and `roles[]` ({id, name}). Login and consent are answered by
 * small interaction endpoints a test (or benchmark) drives like a browser:
 * `POST /interaction/:uid/login` (account), `/confirm` (consent), `/abort`.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface IServAccount {
  /** IServ's account name; also the OIDC `sub`. */
  username: string;
  uuid: string;
  name: string;
  email?: string;
  groups: { act: string; name: string }[];
  roles: { id: string; name: string }[];
}

export interface IServClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** IServ's "vertrauenswürdig": no consent page. */
  trusted?: boolean;
}

export interface IServProviderOptions {
  accounts: IServAccount[];
  clients: IServClient[];
  /** Path the issuer carries after the host (default none: issuer = `http://127.0.0.1:<port>`). */
  issuerPath?: string;
  /** Serve `/.well-known/openid-configuration` at the host's root (default true). */
  discoveryAtRoot?: boolean;
}

export interface RunningIServ {
  /** What a school admin enters as IServ's address. */
  baseUrl: string;
  issuer: string;
  provider: Provider;
  /** Requests per path, to see what a client fetched (and how often). */
  hits: Map<string, number>;
  close(): Promise<void>;
}

interface GrantContext {
  oidc: {
    result?: { consent?: { grantId?: string } };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    client: { clientId: string };
    params: { scope?: unknown };
    provider: Provider;
  };
}

export const ISERV_SCOPES = ['openid', 'profile', 'email', 'uuid', 'groups', 'roles'];

export async function startIServProvider(options: IServProviderOptions): Promise<RunningIServ> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prefix = options.issuerPath ?? '';
  const issuer = `${baseUrl}${prefix}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const accounts = new Map(options.accounts.map((a) => [a.username, a]));
  const trusted = new Set(options.clients.filter((c) => c.trusted).map((c) => c.clientId));

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomUUID()] },
    scopes: ISERV_SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      uuid: ['uuid'],
      groups: ['groups'],
      roles: ['roles'],
    },
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: account.username,
            uuid: account.uuid,
            name: account.name,
            preferred_username: account.username,
            ...(account.email ? { email: account.email, email_verified: true } : {}),
            groups: account.groups,
            roles: account.roles,
          };
        },
      };
    },
    routes: {
      authorization: '/iserv/oauth/v2/auth',
      token: '/iserv/oauth/v2/token',
      userinfo: '/iserv/public/oauth/userinfo',
      jwks: '/iserv/public/jwk',
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    // A trusted client ("vertrauenswürdig" in IServ) skips the consent page: the grant is given on its behalf.
    async loadExistingGrant(ctx: GrantContext) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!trusted.has(ctx.oidc.client.clientId)) return undefined;
      const g = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      g.addOIDCScope(String(ctx.oidc.params.scope ?? 'openid'));
      await g.save();
      return g;
    },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  });
  const handle = provider.callback();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const hits = new Map<string, number>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', baseUrl);
      hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
      const interaction = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(url.pathname);
      if (interaction) {
        const details = await provider.interactionDetails(req, res);
        const action = interaction[2];
        if (!action && req.method === 'GET') {
          // IServ's login form / consent page, as data.
          return json(res, 200, { uid: details.uid, prompt: details.prompt.name, clientId: details.params.client_id, scope: details.params.scope });
        }
        if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
        const form = new URLSearchParams(await body(req));
        if (action === 'abort') {
          return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Zugriff verweigert' }, { mergeWithLastSubmission: false });
        }
        if (action === 'login') {
          const username = form.get('login') ?? '';
          if (details.prompt.name !== 'login' || !accounts.has(username)) return json(res, 400, { error: 'unknown account' });
          return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
        }
        if (details.prompt.name !== 'consent' || !details.session) return json(res, 400, { error: 'no consent pending' });
        return provider.interactionFinished(req, res, { consent: { grantId: await grant(provider, details) } }, { mergeWithLastSubmission: true });
      }
      if (url.pathname === '/.well-known/openid-configuration' && prefix && options.discoveryAtRoot !== false) {
        // IServ answers discovery at the host's root.
        req.url = `${prefix}${req.url}`;
      } else if (url.pathname === '/.well-known/openid-configuration' && options.discoveryAtRoot === false) {
        return json(res, 404, { error: 'not found' });
      }
      if (prefix && req.url!.startsWith(prefix)) {
        // Mounted under the issuer's path, as express would do it.
        (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
        req.url = req.url!.slice(prefix.length) || '/';
      }
      handle(req, res);
    })().catch((error: unknown) => json(res, 500, { error: String(error) }));
  });

  return {
    baseUrl,
    issuer,
    provider,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function grant(provider: Provider, details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<string> {
  const g = details.grantId ? ((await provider.Grant.find(details.grantId)) ?? newGrant()) : newGrant();
  function newGrant() {
    return new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id });
  }
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) g.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) g.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) g.addResourceScope(resource, scopes.join(' '));
  return g.save();
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
