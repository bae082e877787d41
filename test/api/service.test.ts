import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';

function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('the embedded service (PGlite under DATA_DIR)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-service-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('first start writes the operator token and key (0600), never logs them; data survive a restart', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const first = captureLogs();
    const one = await startService(config, first.logger);
    const tokenFile = path.join(dataDir, 'operator-token');
    expect(one.operatorTokenFile).toBe(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, 'encryption-key')).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();

    const created = await request(one.url).post('/api/v1/tenants').set('Authorization', `Bearer ${token}`).send({ slug: 'gym-west', name: 'Gymnasium West' });
    expect(created.status).toBe(201);
    await request(one.url)
      .put('/api/v1/tenants/gym-west/backends/bbb')
      .set('Authorization', `Bearer ${token}`)
      .send({ kind: 'bbb', baseUrl: 'https://bbb.test/bigbluebutton', secret: 'persistent-secret-123456' })
      .expect(200);
    await one.stop();
    expect(first.lines.join('')).not.toContain(token);
    expect(first.lines.join('')).toContain(tokenFile);

    const second = captureLogs();
    const two = await startService(config, second.logger);
    try {
      const read = await request(two.url).get('/api/v1/tenants/gym-west').set('Authorization', `Bearer ${token}`);
      expect(read.status).toBe(200);
      expect(read.body.name).toBe('Gymnasium West');
      const backend = await request(two.url).get('/api/v1/tenants/gym-west/backends/bbb').set('Authorization', `Bearer ${token}`);
      expect(backend.body.secretSet).toBe(true);
      expect(await (await import('../../src/backends/store.js')).loadBackend(two.ctx.db, two.ctx.secrets, created.body.id, 'bbb')).toMatchObject({ secret: 'persistent-secret-123456' });
      expect((await request(two.url).get('/readyz')).body).toEqual({ status: 'ready', database: 'pglite' });
    } finally {
      await two.stop();
    }
    expect(second.lines.join('')).not.toContain(token);
  });

  test('SIGTERM-style stop lets an in-flight request finish and then refuses connections', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    const service = await startService(config, createLogger('silent'));
    const token = readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim();
    const inFlight = request(service.url).get('/api/v1/tenants').set('Authorization', `Bearer ${token}`);
    const pending = inFlight.then((r) => r.status);
    await new Promise((r) => setTimeout(r, 5));
    await service.stop();
    expect(await pending).toBe(200);
    await expect(request(service.url).get('/healthz')).rejects.toThrow();
  });
});
