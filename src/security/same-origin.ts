import type { RequestHandler } from 'express';
import { HttpError } from '../http-error';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests that a browser says come from another site, before any other
 * work. A second line behind the CSRF token: browsers send `Sec-Fetch-Site` and `Origin` on
 * POSTs, and a page on another site cannot change either.
 */
export const sameOriginOnly: RequestHandler = (req, _res, next) => {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const origin = req.get('Origin');
  // The Host header, not req.host: behind a trusted proxy Express would take X-Forwarded-Host,
  // which a client can send too, and then any Origin could be made to look like ours. The proxy
  // passes Host through (docs/production.md, "Behind a reverse proxy").
  if (
    req.get('Sec-Fetch-Site') === 'cross-site' ||
    (origin !== undefined && origin !== `${req.protocol}://${req.get('Host')}`)
  ) {
    next(new HttpError(403, 'ECROSSSITE'));
    return;
  }
  next();
};
