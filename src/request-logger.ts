import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from './logger';
import { tokenMasked } from './mail/links';

/**
 * One structured line per request, with an id that is also sent back as X-Request-Id so a person
 * reporting a problem can quote it. Only the method, path, status and timing are logged: no
 * headers, so no cookies or session ids; no query string, and no mailed link's token, which sits
 * in its path (mail/links.ts): whoever reads the log must not be able to reset a password with
 * it. A failed request's error (handed over as `res.err` by the error handler) is logged on that
 * same line.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (_req: IncomingMessage, res: ServerResponse) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // Probes are polled every few seconds; a line each would drown the log.
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    // Answers the error handler summarises itself (a storm of "busy" refusals) get no line each.
    customLogLevel: (_req, res, error) =>
      (res as ServerResponse & { locals?: { logQuietly?: boolean } }).locals?.logQuietly
        ? 'silent'
        : error || res.statusCode >= 500
          ? 'error'
          : res.statusCode >= 400
            ? 'warn'
            : 'info',
    // Each serializer is given the request or response itself, not pino's standard summary of
    // it first (pino-http's default wraps them): that summary copies every header of the
    // response, on every request, for fields nobody logs (bench/optimisations.md).
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id: string; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        path: tokenMasked((req.originalUrl ?? req.url ?? '').split('?')[0] ?? ''),
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      // A failed request's error: the logger's own serializer, which scrubs it (logger.ts).
    },
  });
}
