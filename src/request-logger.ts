import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from './logger';
import { tokenMasked } from './mail/links';

/**
 * What a log line says about its request: its id, method and path. No headers, so no cookies or
 * session ids; no query string; and no mailed link's token, which sits in its path
 * (mail/links.ts): whoever reads the log must not be able to reset a password with it.
 */
export function requestFields(req: Request) {
  const url = req.originalUrl || req.url;
  return { id: req.id, method: req.method, path: tokenMasked(url.split('?')[0] ?? '') };
}

/** Probes are polled every few seconds; a line each would drown the log. */
const unlogged = new Set(['/healthz', '/readyz']);

/**
 * One structured line per request, with an id that is also sent back as X-Request-Id so a person
 * reporting a problem can quote it, and that security events carry (security/events.ts). A failed
 * request's error (handed over as `res.locals.failure` by the error handler) is logged on that
 * same line, through the logger's own serializer, which scrubs it (logger.ts).
 *
 * Written here rather than with pino-http: that makes a child logger for every request (one
 * object with a dozen own methods, its bindings serialised and redacted) and three listeners,
 * which cost a signed-in page about a tenth of its time (bench/optimisations.md). Here a request
 * costs an id, a header and one listener; its line is written when the response has gone.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const id = randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (!unlogged.has(req.url)) {
      const startedAt = Date.now();
      // 'close' comes after every response: once it is sent, or when the client went away first.
      res.once('close', () => {
        // Answers the error handler summarises itself (a storm of "busy" refusals) get no line
        // each, and no work towards one.
        if (res.locals.logQuietly) return;
        const { statusCode } = res;
        const failure =
          res.locals.failure ??
          (statusCode >= 500 ? new Error(`failed with status code ${statusCode}`) : undefined);
        const level = failure ? 'error' : statusCode >= 400 ? 'warn' : 'info';
        const fields = {
          req: requestFields(req),
          res: { statusCode },
          err: failure,
          responseTime: Date.now() - startedAt,
        };
        const message = failure
          ? 'request errored'
          : res.writableFinished
            ? 'request completed'
            : 'request aborted';
        logger[level](fields, message);
      });
    }
    next();
  };
}
