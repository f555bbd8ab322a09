import type { RequestHandler } from 'express';
import onHeaders from 'on-headers';

/**
 * The session cookie's Set-Cookie header, put right just before the headers go out:
 *
 * - One per response, the last. A session ended earlier in a request (logOut() clears the
 *   cookie) may be followed by a login in the same request (a new cookie): the browser would
 *   apply both in order, but two contradicting headers are one mistake away from a bug, and the
 *   clearing one is simply void once a new cookie is set.
 * - With `Max-Age` next to the `Expires` express-session writes. `Expires` is a date on the
 *   server's clock; a browser whose clock is off keeps the cookie too long or drops it early.
 *   `Max-Age` counts seconds from receipt, and browsers prefer it.
 *
 * Must be mounted *before* the session middleware: header listeners run in reverse order, so
 * this one runs after express-session has set the cookie.
 */
export function sessionCookieHeaders(cookieName: string): RequestHandler {
  return (_req, res, next) => {
    onHeaders(res, function finishSessionCookie() {
      const header = this.getHeader('Set-Cookie');
      if (header === undefined) return;
      const cookies = ([] as string[]).concat(header as string | string[]);
      const isSession = (cookie: string) => cookie.startsWith(`${cookieName}=`);
      const last = cookies.findLastIndex(isSession);
      this.setHeader(
        'Set-Cookie',
        cookies.flatMap((cookie, index) =>
          !isSession(cookie) ? [cookie] : index === last ? [withMaxAge(cookie)] : [],
        ),
      );
    });
    next();
  };
}

function withMaxAge(cookie: string): string {
  if (/;\s*max-age=/i.test(cookie)) return cookie;
  const expires = /;\s*expires=([^;]+)/i.exec(cookie)?.[1];
  if (!expires) return cookie;
  const seconds = Math.max(0, Math.round((Date.parse(expires) - Date.now()) / 1000));
  return `${cookie}; Max-Age=${seconds}`;
}
