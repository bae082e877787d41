import { isIPv4, isIPv6 } from 'node:net';

/**
 * RET-02: an IP address is anonymised before it is stored or logged: the last
 * IPv4 octet, or the last 80 bits of an IPv6 address, are zeroed.
 */
export function anonymiseIp(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const ip = raw.startsWith('::ffff:') && isIPv4(raw.slice(7)) ? raw.slice(7) : raw;
  if (isIPv4(ip)) return ip.replace(/\.\d+$/, '.0');
  const bare = ip.split('%')[0] ?? ip;
  if (isIPv6(bare)) {
    const kept = ipv6Groups(bare).slice(0, 3).map((g) => g.toString(16));
    return `${kept.join(':')}::`;
  }
  return null;
}

/** The eight 16-bit groups of a valid IPv6 address. */
function ipv6Groups(ip: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
