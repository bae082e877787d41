/**
 * The jest environment (test/harness/node-environment.ts) must offer Node's own
 * Symbol.dispose / Symbol.asyncDispose: without them down-levelled `using` in
 * libraries fails inside tests (playwright-core's iframe clicks retried silently
 * until they timed out), and objects made by Node's built-ins must stay disposable.
 */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

test('the test realm has the dispose symbols', () => {
  expect(typeof Symbol.dispose).toBe('symbol');
  expect(typeof Symbol.asyncDispose).toBe('symbol');
});

test("they are the host realm's symbols: Node's own timers and file handles are disposable with them", async () => {
  const timer = setTimeout(() => undefined, 60_000);
  expect(typeof (timer as unknown as Record<symbol, unknown>)[Symbol.dispose]).toBe('function');
  (timer as unknown as Disposable)[Symbol.dispose]();
  const handle = await open(fileURLToPath(import.meta.url), 'r');
  expect(typeof (handle as unknown as Record<symbol, unknown>)[Symbol.asyncDispose]).toBe('function');
  await (handle as unknown as AsyncDisposable)[Symbol.asyncDispose]();
  await expect(handle.stat()).rejects.toThrow();
});
