import { parse } from 'cookie';
import type { RequestHandler } from 'express';

/**
 * `req.cookies`: every cookie of the request, as the plain text it was sent as.
 *
 * Not cookie-parser: it turns any value that starts with "j:" into whatever JSON follows, for
 * every cookie, whoever set it. express-session then read its own cookie from `req.cookies`,
 * found an object where a string belongs, and threw: a `j:{}` session cookie gave a 500 on every
 * page. Text in, text out: each reader decides what its own cookie may hold. (The session
 * cookie's signature is checked by express-session itself; no other cookie here is signed.)
 */
export const readCookies: RequestHandler = (req, _res, next) => {
  const header = req.headers.cookie;
  const parsed = header ? parse(header) : {};
  // Without a prototype: a cookie named "__proto__" or "constructor" is just a name.
  const cookies: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(parsed)) {
    if (value !== undefined) cookies[name] = value;
  }
  req.cookies = cookies;
  next();
};
