import type { Request } from 'express';

/**
 * The client's address as Express sees it through TRUST_PROXY hops: what the logs record.
 * With TRUST_PROXY set, this is whatever the proxy put in X-Forwarded-For, so the app must be
 * reachable only through that proxy (see the README's "Behind a reverse proxy").
 */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
