/**
 * A small LTI 1.3 platform, shaped like Moodle 5.1 (claims from the captured fixtures),
 * for tests and the launch benchmark: its own RSA keys and JWKS, OIDC login initiation,
 * an auth endpoint answering with a signed id_token via form_post, a deep-linking return
 * that verifies the tool's signed answer, NRPS behind a client-credentials token endpoint
 * (signed JWT assertion checked against the tool's JWKS), and Moodle's side of Dynamic
 * Registration. It refuses what Moodle refuses: unknown clients, wrong redirect URIs,
 * bad assertions, missing bearer tokens.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type FixtureName = 'launch-teacher' | 'launch-student' | 'launch-site-admin' | 'deep-linking-teacher';

export interface Fixture {
  messageType: string;
  loginInitiation: Record<string, string>;
  header: Record<string, string>;
  claims: Record<string, unknown>;
}

function fixturesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'test', 'fixtures', 'moodle-5.1');
    try {
      readFileSync(path.join(candidate, 'README.md'));
      return candidate;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new Error('fixtures not found');
      dir = parent;
    }
  }
}

const fixtureCache = new Map<string, string>();

/** A fresh copy of a captured Moodle message. */
export function loadFixture(name: FixtureName | 'openid-configuration' | 'registration-exchange'): Fixture {
  let text = fixtureCache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(fixturesDir(), `${name}.json`), 'utf8');
    fixtureCache.set(name, text);
  }
  return JSON.parse(text) as Fixture;
}

export interface PlatformOptions {
  now?: () => Date;
  clientId?: string;
  deploymentId?: string;
  /** Where the tool publishes its keys (for client assertions and deep-linking answers). */
  toolJwksUrl?: string;
  /** The redirect URI the tool is registered with. */
  redirectUri?: string;
}

export interface PendingLaunch {
  fixture: FixtureName;
  /** Edits the claims after the fixture and the platform's own values are in. */
  edit?: (claims: Record<string, unknown>) => void;
  /** Sign with a key the JWKS does not publish. */
  foreignKey?: boolean;
}

export interface Member {
  user_id: string;
  roles: string[];
  name?: string;
  status?: string;
}

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';

export class LtiPlatform {
  issuer = '';
  clientId: string;
  deploymentId: string;
  toolJwksUrl: string | undefined;
  redirectUri: string;
  private server: Server | null = null;
  private key!: { privateKey: CryptoKey; publicJwk: JWK; kid: string };
  private foreign!: { privateKey: CryptoKey; kid: string };
  private readonly now: () => Date;
  /** Keyed by login_hint: what the next authentication for that user answers. */
  readonly pending = new Map<string, PendingLaunch>();
  readonly members = new Map<string, Member[]>();
  pageSize = 2;
  readonly issuedTokens = new Set<string>();
  readonly deepLinkAnswers: JWTPayload[] = [];
  readonly registrations: Record<string, unknown>[] = [];
  registrationToken = '';
  tokenRequests = 0;
  /** Why the last signed message from the tool was refused (for test diagnostics). */
  lastError = '';
  jwksRequests = 0;

  constructor(options: PlatformOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.clientId = options.clientId ?? 'mFomYFCfnMKP71r';
    this.deploymentId = options.deploymentId ?? '1';
    this.toolJwksUrl = options.toolJwksUrl;
    this.redirectUri = options.redirectUri ?? 'https://bridge.test/lti/launch';
  }

  async start(): Promise<this> {
    this.key = await newKey();
    const foreign = await newKey();
    this.foreign = { privateKey: foreign.privateKey, kid: foreign.kid };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** What an admin types into the bridge for static registration. */
  registration(name = 'Moodle Test') {
    return {
      issuer: this.issuer,
      clientId: this.clientId,
      deploymentIds: [this.deploymentId],
      authEndpoint: `${this.issuer}/mod/lti/auth.php`,
      tokenEndpoint: `${this.issuer}/mod/lti/token.php`,
      jwksUrl: `${this.issuer}/mod/lti/certs.php`,
      name,
    };
  }

  /** Moodle's login initiation parameters for a fixture, with this platform's values. */
  loginInitiation(fixture: FixtureName, overrides: Record<string, string> = {}): Record<string, string> {
    const f = loadFixture(fixture);
    return { ...f.loginInitiation, iss: this.issuer, client_id: this.clientId, lti_deployment_id: this.deploymentId, target_link_uri: 'https://bridge.test/lti/launch', ...overrides };
  }

  /** Publishes a new signing key (key rotation); the old one is gone from the JWKS. */
  async rotateKey(): Promise<void> {
    this.key = await newKey();
  }

  /** Signs a Moodle-shaped id_token for a fixture (used by the auth endpoint). */
  async idToken(launch: PendingLaunch, nonce: string): Promise<string> {
    const f = loadFixture(launch.fixture);
    const iat = Math.floor(this.now().getTime() / 1000);
    const claims: Record<string, unknown> = {
      ...f.claims,
      nonce,
      iat,
      exp: iat + 60, // Moodle: 60 s
      iss: this.issuer,
      aud: this.clientId,
      [`${CLAIM}deployment_id`]: this.deploymentId,
      [`${CLAIM}target_link_uri`]: 'https://bridge.test/lti/launch',
    };
    if (f.messageType === 'LtiResourceLinkRequest') {
      claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'] = {
        context_memberships_url: `${this.issuer}/mod/lti/services.php/CourseSection/${(claims[`${CLAIM}context`] as { id: string }).id}/bindings/1/memberships`,
        service_versions: ['1.0', '2.0'],
      };
    }
    if (f.messageType === 'LtiDeepLinkingRequest') {
      const dl = claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] as Record<string, unknown>;
      claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] = { ...dl, deep_link_return_url: `${this.issuer}/mod/lti/contentitem_return.php?course=2&id=1` };
    }
    launch.edit?.(claims);
    const key = launch.foreignKey ? this.foreign : this.key;
    return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: key.kid }).sign(key.privateKey);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/mod/lti/certs.php') {
      this.jwksRequests++;
      return send(200, { keys: [this.key.publicJwk] });
    }
    if (req.method === 'GET' && url.pathname === '/mod/lti/auth.php') return this.authorize(url, send);
    if (req.method === 'POST' && url.pathname === '/mod/lti/token.php') return this.token(await form(req), send);
    if (req.method === 'GET' && url.pathname.startsWith('/mod/lti/services.php/')) return this.memberships(req, url, send);
    if (req.method === 'POST' && url.pathname === '/mod/lti/contentitem_return.php') return this.deepLinkReturn(await form(req), send);
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') return send(200, this.openidConfiguration());
    if (req.method === 'POST' && url.pathname === '/mod/lti/openid-registration.php') return this.register(req, send);
    send(404, { error: 'not found' });
  }

  private async authorize(url: URL, send: (s: number, b: unknown) => void): Promise<void> {
    const p = Object.fromEntries(url.searchParams);
    if (p.client_id !== this.clientId) return send(400, 'unknown client_id');
    if (p.redirect_uri !== this.redirectUri) return send(400, 'invalid redirect_uri');
    if (p.scope !== 'openid' || p.response_type !== 'id_token' || p.response_mode !== 'form_post' || p.prompt !== 'none') return send(400, 'invalid request');
    if (!p.nonce || !p.state || !p.login_hint) return send(400, 'missing nonce/state/login_hint');
    const launch = this.pending.get(p.login_hint);
    if (!launch) return send(400, 'no such user');
    const idToken = await this.idToken(launch, p.nonce);
    send(
      200,
      `<!doctype html><form method="post" action="${p.redirect_uri}"><input type="hidden" name="id_token" value="${idToken}"><input type="hidden" name="state" value="${p.state}"></form>`,
    );
  }

  /** Messages the tool signs through ltijs carry wall-clock times (jsonwebtoken), so they are checked against the wall clock. */
  private async verifyFromTool(jwt: string, audience: string): Promise<JWTPayload> {
    if (!this.toolJwksUrl) throw new Error('toolJwksUrl not set');
    const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(this.toolJwksUrl)), { audience, algorithms: ['RS256'], clockTolerance: 5 });
    return payload;
  }

  private async token(body: Record<string, string>, send: (s: number, b: unknown) => void): Promise<void> {
    this.tokenRequests++;
    if (body.grant_type !== 'client_credentials' || body.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !body.client_assertion) {
      return send(400, { error: 'invalid_request' });
    }
    try {
      const claims = await this.verifyFromTool(body.client_assertion, `${this.issuer}/mod/lti/token.php`);
      if (claims.iss !== this.clientId || claims.sub !== this.clientId) return send(401, { error: 'invalid_client' });
    } catch (err) {
      this.lastError = String(err);
      return send(401, { error: 'invalid_client' });
    }
    const accessToken = randomBytes(16).toString('hex');
    this.issuedTokens.add(accessToken);
    send(200, { access_token: accessToken, token_type: 'bearer', expires_in: 3600, scope: body.scope });
  }

  private memberships(req: IncomingMessage, url: URL, send: (s: number, b: unknown, h?: Record<string, string>) => void): void {
    const auth = req.headers.authorization ?? '';
    if (!/^Bearer /i.test(auth) || !this.issuedTokens.has(auth.slice(7))) return send(401, { error: 'invalid_token' });
    if (!String(req.headers.accept ?? '').includes('application/vnd.ims.lti-nrps.v2.membershipcontainer+json')) return send(406, { error: 'not acceptable' });
    const contextId = url.pathname.split('/')[5] ?? ''; // /mod/lti/services.php/CourseSection/{id}/bindings/…
    const all = this.members.get(contextId) ?? [];
    const page = Number(url.searchParams.get('page') ?? '1');
    const slice = all.slice((page - 1) * this.pageSize, page * this.pageSize);
    const headers: Record<string, string> = { 'content-type': 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json' };
    if (page * this.pageSize < all.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    send(200, { id: url.toString(), context: { id: contextId, title: 'Mathe 7a' }, members: slice }, headers);
  }

  private async deepLinkReturn(body: Record<string, string>, send: (s: number, b: unknown) => void): Promise<void> {
    try {
      const claims = await this.verifyFromTool(body.JWT ?? '', this.issuer);
      if (claims.iss !== this.clientId || claims[`${CLAIM}message_type`] !== 'LtiDeepLinkingResponse') return send(400, 'wrong message');
      this.deepLinkAnswers.push(claims);
      send(200, 'ok');
    } catch (err) {
      this.lastError = String(err);
      send(400, 'invalid JWT');
    }
  }

  private openidConfiguration(): Record<string, unknown> {
    const moodle = loadFixture('openid-configuration') as unknown as Record<string, unknown>;
    return {
      ...moodle,
      issuer: this.issuer,
      token_endpoint: `${this.issuer}/mod/lti/token.php`,
      jwks_uri: `${this.issuer}/mod/lti/certs.php`,
      authorization_endpoint: `${this.issuer}/mod/lti/auth.php`,
      registration_endpoint: `${this.issuer}/mod/lti/openid-registration.php`,
    };
  }

  /** Moodle's `registration_token`: signed by the platform, `sub` = the future client id, scope `reg`, 1 h. */
  async newRegistrationToken(clientId = 'dynClient' + randomBytes(4).toString('hex')): Promise<string> {
    const iat = Math.floor(this.now().getTime() / 1000);
    this.registrationToken = await new SignJWT({ sub: clientId, scope: 'reg', iat, exp: iat + 3600 }).setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.key.kid }).sign(this.key.privateKey);
    return this.registrationToken;
  }

  private async register(req: IncomingMessage, send: (s: number, b: unknown) => void): Promise<void> {
    const auth = req.headers.authorization ?? '';
    if (!this.registrationToken || auth !== `Bearer ${this.registrationToken}`) return send(401, { error: 'invalid registration token' });
    const payload = decode(this.registrationToken); // we issued it ourselves (compared above)
    const request = JSON.parse(await text(req)) as Record<string, unknown>;
    if (!Array.isArray(request.redirect_uris) || typeof request.initiate_login_uri !== 'string' || typeof request.jwks_uri !== 'string') return send(400, { error: 'invalid_client_metadata' });
    this.registrations.push(request);
    this.registrationToken = ''; // one registration per token, as in Moodle
    const config = request['https://purl.imsglobal.org/spec/lti-tool-configuration'] as Record<string, unknown>;
    send(200, {
      ...request,
      client_id: payload.sub,
      'https://purl.imsglobal.org/spec/lti-tool-configuration': { ...config, version: '1.3.0', deployment_id: '2' },
    });
  }
}

function decode(jwt: string): JWTPayload {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
}

async function newKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = randomBytes(10).toString('hex');
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, kid };
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function form(req: IncomingMessage): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await text(req)));
}

/** A browser, as far as launches need one: a cookie jar and manual redirects against the real tool URL. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(
    /** Where the tool really listens (its PUBLIC_URL may differ). */
    readonly toolUrl: string,
    readonly publicUrl = 'https://bridge.test',
  ) {}

  private rewrite(url: string): string {
    return url.startsWith(this.publicUrl) ? this.toolUrl + url.slice(this.publicUrl.length) : url.startsWith('/') ? this.toolUrl + url : url;
  }

  async request(method: string, url: string, body?: Record<string, string>): Promise<Response> {
    const target = this.rewrite(url);
    const headers: Record<string, string> = {};
    if (target.startsWith(this.toolUrl) && this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method, headers, body: body ? new URLSearchParams(body).toString() : undefined, redirect: 'manual' });
    if (target.startsWith(this.toolUrl)) {
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(';');
        const [name, ...value] = pair!.trim().split('=');
        if (attrs.some((a) => /^\s*max-age=0/i.test(a))) this.cookies.delete(name!);
        else this.cookies.set(name!, value.join('='));
      }
    }
    return res;
  }

  /**
   * A complete launch: login initiation at the tool → the platform's auth endpoint →
   * form_post of the id_token to the tool's redirect URI. Returns the tool's answer.
   */
  async launch(platform: LtiPlatform, login: Record<string, string>, method: 'GET' | 'POST' = 'GET'): Promise<Response> {
    const first =
      method === 'GET' ? await this.request('GET', `/lti/login?${new URLSearchParams(login).toString()}`) : await this.request('POST', '/lti/login', login);
    if (first.status !== 302) return first;
    const auth = await this.request('GET', first.headers.get('location')!);
    const page = await auth.text();
    if (auth.status !== 200) throw new Error(`platform refused authentication: ${auth.status} ${page}`);
    const fields = formFields(page);
    return this.request('POST', formAction(page)!, fields);
  }
}

export function formFields(page: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = decodeEntities(m[2]!);
  return out;
}

export function formAction(page: string): string | undefined {
  const m = /<form method="post" action="([^"]+)"/.exec(page);
  return m ? decodeEntities(m[1]!) : undefined;
}

const decodeEntities = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
