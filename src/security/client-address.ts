import { isIPv4, isIPv6 } from 'node:net';
import type { Request } from 'express';

/**
 * The client's address as Express sees it through TRUST_PROXY hops: what the logs record.
 * With TRUST_PROXY set, this is whatever the proxy put in X-Forwarded-For, so the app must be
 * reachable only through that proxy (see docs/production.md, "Behind a reverse proxy").
 */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * The key per-address limits count under. An IPv6 host is usually given a whole /64 (2^64
 * addresses), so counting by full address would hand it a fresh allowance with every request:
 * IPv6 addresses count by their first 64 bits. IPv4-mapped IPv6 addresses ("::ffff:192.0.2.1",
 * how a dual-stack socket reports IPv4 clients) count as the IPv4 address they carry.
 */
export function addressKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip;
  const groups = expandIPv6(ip);
  const mapped = groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff';
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6).map((group) => parseInt(group, 16));
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros ("2001:db8::1" → 8 groups). */
function expandIPv6(ip: string): string[] {
  let text = ip.split('%')[0] ?? ip;
  // A trailing dotted IPv4 part ("::ffff:192.0.2.1") is two groups written another way.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) =>
    parseInt(group, 16).toString(16),
  );
}
