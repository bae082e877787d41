import { anonymiseIp } from '../../src/shared/ip.js';

describe('RET-02: IP addresses are anonymised before anything stores them', () => {
  test.each([
    ['203.0.113.77', '203.0.113.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['::ffff:198.51.100.9', '198.51.100.0'],
    ['2001:db8:abcd:12:3456:789a:bcde:f012', '2001:db8:abcd::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['::1', '0:0:0::'],
  ])('%s → %s', (raw, expected) => {
    expect(anonymiseIp(raw)).toBe(expected);
  });

  test('the last 80 bits of IPv6 are always zero', () => {
    const out = anonymiseIp('2a02:8070:ffff:ffff:ffff:ffff:ffff:ffff')!;
    expect(out).toBe('2a02:8070:ffff::');
  });

  test('nothing that is not an IP survives', () => {
    expect(anonymiseIp(undefined)).toBeNull();
    expect(anonymiseIp('not-an-ip')).toBeNull();
  });
});
