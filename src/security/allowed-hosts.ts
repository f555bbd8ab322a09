import type { RequestHandler } from 'express';
import { HttpError } from '../http-error';

/** A Host header's name as the allow-list compares it: lower case, without the port. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.indexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/**
 * Refuses, with a 400, a request for any host but this site's own names (Django's
 * ALLOWED_HOSTS). A DNS-rebinding page reaches the server under the attacker's own name, which
 * its browser sends as Host: refused, it can read nothing, the development outbox included. And
 * nothing that reads Host can be steered by a forged one. The port is not compared: a proxy or
 * a development server may answer on any.
 */
export function allowedHostsOnly(allowed: readonly string[]): RequestHandler {
  const names = new Set(allowed);
  return (req, _res, next) => {
    const host = req.headers.host;
    if (host !== undefined && names.has(hostName(host))) {
      next();
      return;
    }
    // The name that was refused goes to the log: the first thing to look at after adding a
    // name to the deployment and forgetting ALLOWED_HOSTS.
    next(new HttpError(400, 'EHOST', undefined, { reason: (host ?? '(none)').slice(0, 100) }));
  };
}
