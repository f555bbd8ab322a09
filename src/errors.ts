import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';

/** What a person is told for each client error; the request's own details are never echoed. */
const CLIENT_ERROR_MESSAGES: Record<number, string> = {
  400: 'That request could not be understood. Please go back and try again.',
  403: 'That action is not allowed.',
  404: 'There is no page at this address.',
  413: 'That request was too large. Please go back and try again with less.',
  415: 'That request was sent in a format this site does not accept.',
};

export const notFound: RequestHandler = (req, res) => {
  res.status(404);
  if (req.accepts(['html', 'json']) === 'json') {
    res.json({ error: 'Not found' });
    return;
  }
  res.render('error', {
    title: 'Page not found',
    status: 404,
    message: CLIENT_ERROR_MESSAGES[404],
  });
};

/**
 * The last middleware. Client errors raised by the body parser and friends (oversized or
 * malformed bodies) keep their 4xx status; anything else is a 500 whose details go to the log,
 * never to the page in production: a stack trace or SQL shows an attacker how the site is built.
 */
export function errorHandler(config: Config, logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const declared = Number(error?.status ?? error?.statusCode);
    const status = declared >= 400 && declared < 500 ? declared : 500;
    if (status === 500)
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');

    const message =
      status === 500
        ? 'Something went wrong on our side. Please try again in a moment.'
        : (CLIENT_ERROR_MESSAGES[status] ?? CLIENT_ERROR_MESSAGES[400]);
    res.status(status);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: message });
      return;
    }
    res.render('error', {
      title: status === 500 ? 'Something went wrong' : 'Request refused',
      status,
      message,
      // The developer running `npm run dev` wants the stack; nobody else may see it.
      stack: config.isProduction ? undefined : String(error?.stack ?? error),
    });
  };
}
