import ltijs, { type LtiProvider } from 'ltijs';
import Keyset from 'ltijs/dist/Utils/Keyset.js';
import type { AppContext } from '../src/context.js';
import { LtiDocumentStore } from './documents.js';

/**
 * ltijs exports one ready-made Provider instance per process. The service (and the tests,
 * which build one app per database) need one per app, each on its own store, so we build a
 * fresh instance of the same class. Serverless: `deploy()` is never called (it would add a
 * process-wide SIGINT handler); the plugin needs no connection, mongoose is never connected.
 */
const ProviderClass = Object.getPrototypeOf(ltijs.Provider).constructor as new () => LtiProvider;

export interface Lti {
  provider: LtiProvider;
  store: LtiDocumentStore;
  /** The string ltijs passes back to the plugin to ask for encryption; the plugin seals with ctx.secrets. */
  encryptionKey: string;
  keyset(): Promise<{ keys: Array<Record<string, unknown>> }>;
}

export function createLti(ctx: Pick<AppContext, 'db' | 'clock' | 'secrets' | 'database'>): Lti {
  const store = new LtiDocumentStore(ctx.db, ctx.clock, ctx.secrets, ctx.database.lockNamespace);
  const provider = new ProviderClass();
  // ltijs signs its own cookies with this key; we derive one so the master key never leaves SecretBox.
  const encryptionKey = ctx.secrets.deriveKey('ltijs').toString('base64url');
  provider.setup(encryptionKey, { plugin: store }, {
    // ltijs's own express app is mounted at /lti/keys only (see routes.ts): its keyset route is its root.
    appRoute: '/ltijs-launch-unused',
    loginRoute: '/ltijs-login-unused',
    keysetRoute: '/',
    dynRegRoute: '/ltijs-register-unused',
    cookies: { secure: true, sameSite: 'None' },
    cors: false,
  });
  return {
    provider,
    store,
    encryptionKey,
    keyset: () => Keyset.build(store, encryptionKey),
  };
}

const perContext = new WeakMap<object, Lti>();

/** The one provider of this app context (the mount, the roster sync and jobs share it). */
export function ltiFor(ctx: Pick<AppContext, 'db' | 'clock' | 'secrets' | 'database'>): Lti {
  let lti = perContext.get(ctx);
  if (!lti) {
    lti = createLti(ctx);
    perContext.set(ctx, lti);
  }
  return lti;
}
