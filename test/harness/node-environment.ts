import { TestEnvironment as NodeEnvironment } from 'jest-environment-node';

/**
 * jest's node environment, plus the host's `Symbol.dispose` / `Symbol.asyncDispose`.
 *
 * Node 20 (V8 11.3) has no native explicit resource management: Node polyfills the two
 * symbols in its main realm only, so a fresh vm context — every jest 29 test file — has
 * `Symbol.dispose === undefined` (nodejs/node#50745, jestjs/jest#14874; jest 30 copies
 * them, jest 29.7 does not). Libraries built with down-levelled `using` then fail inside
 * tests: playwright-core's iframe click (`_framePosition`) throws "Object not disposable"
 * on every attempt, which Playwright retries silently until the click times out.
 * The host's own symbols are installed (not fresh ones), so objects made by Node's
 * built-ins in the outer realm stay disposable inside tests, and vice versa.
 */
export default class SchulbrueckeNodeEnvironment extends NodeEnvironment {
  constructor(...args: ConstructorParameters<typeof NodeEnvironment>) {
    super(...args);
    const inner = this.global.Symbol as SymbolConstructor;
    for (const name of ['dispose', 'asyncDispose'] as const) {
      const host = Symbol[name];
      if (typeof host === 'symbol' && typeof inner[name] !== 'symbol') {
        Object.defineProperty(inner, name, { value: host, writable: false, enumerable: false, configurable: false });
      }
    }
  }
}
