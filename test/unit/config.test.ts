import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';

const run = promisify(execFile);

describe('configuration is validated once, at start', () => {
  test('defaults for the embedded mode', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, dataDir: './data', databaseUrl: undefined, logLevel: 'info', env: 'production', publicUrl: 'http://localhost:3000' });
  });

  test('one error lists every problem', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'x', DATABASE_URL: 'mysql://db', ENCRYPTION_KEY: 'c2hvcnQ=', LOG_LEVEL: 'loud', OPERATOR_TOKEN: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'ENCRYPTION_KEY', 'LOG_LEVEL', 'OPERATOR_TOKEN']) expect(problems).toContain(name);
  });

  test('SEC-02: plain http is refused in production except on loopback', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'http://bridge.schule.de' })).toThrow(/PUBLIC_URL.*SEC-02/s);
    expect(loadConfig({ PUBLIC_URL: 'http://bridge.schule.de', NODE_ENV: 'development' }).publicUrl).toBe('http://bridge.schule.de');
    expect(loadConfig({ PUBLIC_URL: 'https://bridge.schule.de/' }).publicUrl).toBe('https://bridge.schule.de');
  });

  test('the service stops with the message and no stack trace', async () => {
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const result = await run(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PORT: 'nope', ENCRYPTION_KEY: 'zu-kurz', NODE_OPTIONS: '' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('ENCRYPTION_KEY');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
