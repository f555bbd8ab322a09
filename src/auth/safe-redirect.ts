const ORIGIN = 'http://same-site.invalid';

/**
 * The `next` path if it stays on this site, else undefined. A login page that redirects anywhere
 * it is told to is a phishing tool ("log in here" → the attacker's copy of the site).
 */
export function safeNextPath(next: unknown): string | undefined {
  if (typeof next !== 'string' || next.length > 2048) return undefined;
  // Browsers forgive tabs and newlines inside URLs and read "\" as "/", so "/\evil.com" is
  // another host to them: any control character or backslash is refused outright.
  if (/[\\\p{Cc}]/u.test(next)) return undefined;
  // Only paths: no scheme, no host, nothing relative.
  if (!next.startsWith('/')) return undefined;
  let url: URL;
  try {
    url = new URL(next, ORIGIN);
  } catch {
    return undefined;
  }
  const path = url.pathname + url.search + url.hash;
  // "//evil.com" names another host; so does "/..//evil.com" once its dots are resolved.
  return url.origin === ORIGIN && !path.startsWith('//') ? path : undefined;
}
