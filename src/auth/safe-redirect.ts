const ORIGIN = 'http://same-site.invalid';

/**
 * The `next` path if it stays on this site, else undefined. A login page that redirects anywhere
 * it is told to is a phishing tool ("log in here" → attacker's copy of the site).
 *
 * Browsers read `//evil.com` and `/\evil.com` as other hosts, and forgive tabs and newlines inside
 * URLs, so only a plain path that resolves to our own origin is accepted.
 */
export function safeNextPath(next: unknown): string | undefined {
  if (typeof next !== 'string' || !next.startsWith('/') || next.length > 2048) return undefined;
  if (/[\\\p{Cc}]/u.test(next) || next.startsWith('//')) return undefined;
  let url: URL;
  try {
    url = new URL(next, ORIGIN);
  } catch {
    return undefined;
  }
  return url.origin === ORIGIN ? url.pathname + url.search + url.hash : undefined;
}
