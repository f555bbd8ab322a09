import type { RequestHandler } from 'express';
import onHeaders from 'on-headers';

/**
 * Adds `Max-Age` to the session cookie, next to the `Expires` express-session writes.
 *
 * `Expires` is a date on the server's clock; a browser whose clock is off keeps the cookie too
 * long or drops it early. `Max-Age` counts seconds from receipt, and browsers prefer it.
 * Must be mounted *before* the session middleware: header listeners run in reverse order, so
 * this one runs after express-session has set the cookie.
 */
export function sessionCookieMaxAge(cookieName: string): RequestHandler {
  return (_req, res, next) => {
    onHeaders(res, function addMaxAge() {
      const header = this.getHeader('Set-Cookie');
      if (header === undefined) return;
      const cookies = ([] as string[]).concat(header as string | string[]);
      this.setHeader(
        'Set-Cookie',
        cookies.map((cookie) => withMaxAge(cookie, cookieName)),
      );
    });
    next();
  };
}

function withMaxAge(cookie: string, name: string): string {
  if (!cookie.startsWith(`${name}=`) || /;\s*max-age=/i.test(cookie)) return cookie;
  const expires = /;\s*expires=([^;]+)/i.exec(cookie)?.[1];
  if (!expires) return cookie;
  const seconds = Math.max(0, Math.round((Date.parse(expires) - Date.now()) / 1000));
  return `${cookie}; Max-Age=${seconds}`;
}
