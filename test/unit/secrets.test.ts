import { randomBytes } from 'node:crypto';
import { hashToken, newToken, SecretBox } from '../../src/crypto/secrets.js';

describe('secrets at rest (AES-256-GCM) and token hashes', () => {
  const box = new SecretBox(randomBytes(32));

  test('seal/open round trip, with a fresh IV each time', () => {
    const a = box.seal('geheim', 'backend:t1:bbb');
    const b = box.seal('geheim', 'backend:t1:bbb');
    expect(a).not.toBe(b);
    expect(box.openText(a, 'backend:t1:bbb')).toBe('geheim');
  });

  test('tampering or another place is detected (authenticated encryption)', () => {
    const sealed = box.seal('geheim', 'backend:t1:bbb');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() => box.open(`${parts[0]}.${parts[1]}.${body.toString('base64url')}`, 'backend:t1:bbb')).toThrow();
    expect(() => box.open(sealed, 'backend:t2:bbb')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'backend:t1:bbb')).toThrow();
  });

  test('a wrong key length is refused', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });

  test('tokens carry 256 random bits; only their SHA-256 is stored', () => {
    const token = newToken();
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
  });
});
