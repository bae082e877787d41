/**
 * A minimal browser for protocol tests and benchmarks: one request at a time,
 * redirects followed by the caller, cookies kept per origin and path (Secure and
 * SameSite are left to the server's flags, which tests check separately).
 */
export interface Hop {
  url: string;
  status: number;
  location: string | null;
  setCookies: string[];
  body: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class Browser {
  private readonly jar = new Map<string, Cookie[]>();

  cookies(origin: string): Cookie[] {
    return [...(this.jar.get(origin) ?? [])];
  }

  cookieHeader(url: URL): string {
    return (this.jar.get(url.origin) ?? [])
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = { 'accept-language': 'de', ...(init.headers ?? {}) };
    const cookie = this.cookieHeader(target);
    if (cookie && !headers.cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(target, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) this.store(target, line);
    const location = res.headers.get('location');
    return { url: target.href, status: res.status, location: location ? new URL(location, target).href : null, setCookies, body: await res.text() };
  }

  private store(url: URL, line: string): void {
    const [pair, ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const attr = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attr('path') ?? '/';
    const expired = attr('max-age') === '0' || (attr('expires') !== undefined && new Date(attr('expires')!).getTime() < Date.now());
    const list = (this.jar.get(url.origin) ?? []).filter((c) => !(c.name === name && c.path === path));
    if (!expired) list.push({ name, value, path });
    this.jar.set(url.origin, list);
  }
}

export interface IServLoginOptions {
  account: string;
  /** What the person does on IServ's consent page (if it appears). */
  consent?: 'accept' | 'deny';
  /** Stop at the bridge's callback URL instead of calling it. */
  stopAt: string;
}

/**
 * Follows redirects from `start` through IServ's login and consent pages until
 * the browser is sent to `stopAt` (the bridge's callback); returns that URL.
 */
export async function throughIServ(browser: Browser, start: string, options: IServLoginOptions): Promise<{ callbackUrl: string; hops: Hop[] }> {
  const hops: Hop[] = [];
  let next = start;
  for (let i = 0; i < 20; i++) {
    if (next.startsWith(options.stopAt)) return { callbackUrl: next, hops };
    const hop = await browser.request(next);
    hops.push(hop);
    if (hop.status >= 300 && hop.status < 400 && hop.location) {
      next = hop.location;
      continue;
    }
    if (hop.status === 200 && new URL(hop.url).pathname.startsWith('/interaction/')) {
      const page = JSON.parse(hop.body) as { uid: string; prompt: string };
      const base = new URL(hop.url).origin;
      const action = page.prompt === 'login' ? 'login' : options.consent === 'deny' ? 'abort' : 'confirm';
      const submitted = await browser.request(`${base}/interaction/${page.uid}/${action}`, { form: page.prompt === 'login' ? { login: options.account } : {} });
      hops.push(submitted);
      if (!submitted.location) throw new Error(`interaction ${action} answered ${submitted.status}: ${submitted.body}`);
      next = submitted.location;
      continue;
    }
    throw new Error(`unexpected answer ${hop.status} at ${hop.url}: ${hop.body.slice(0, 300)}`);
  }
  throw new Error('too many redirects');
}
