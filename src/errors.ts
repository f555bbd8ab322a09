import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Config } from './config';
import { isDatabaseUnavailable } from './db';
import { HttpError } from './http-error';
import type { Logger } from './logger';
import { requestFields } from './request-logger';
import type { SecurityEvent, SecurityLog } from './security/events';

interface ErrorPage {
  title: string;
  message: string;
}

/** What a person is told for each client error; the request's own details are never echoed. */
const BAD_REQUEST: ErrorPage = {
  title: 'Request refused',
  message: 'That request could not be understood. Please go back and try again.',
};

const CLIENT_ERRORS: Record<number, ErrorPage> = {
  400: BAD_REQUEST,
  403: { title: 'Request refused', message: 'That action is not allowed.' },
  404: { title: 'Page not found', message: 'There is no page at this address.' },
  413: {
    title: 'Request too large',
    message: 'That request was too large. Please go back and try again with less.',
  },
  415: {
    title: 'Request refused',
    message: 'That request was sent in a format this site does not accept.',
  },
  429: {
    title: 'Too many attempts',
    message: 'There have been too many attempts. Please wait a few minutes and try again.',
  },
};

/** A refused CSRF token or a cross-site form: most often a form left open too long. */
const FORM_REFUSED: ErrorPage = {
  title: 'This form has expired',
  message:
    'The form was open for too long, or was sent from another site. ' +
    'Reload the page and submit the form again.',
};

const UNAVAILABLE: ErrorPage = {
  title: 'Temporarily unavailable',
  message: 'The site cannot reach its database right now. Please try again in a few seconds.',
};

/** Password checks are queued beyond their limit (a login storm): see password-pool.ts. */
const BUSY: ErrorPage = {
  title: 'Busy right now',
  message: 'Very many people are signing in at this moment. Please try again in a few seconds.',
};

/** A session ended for getting its password confirmation wrong too often. */
const SIGNED_OUT: ErrorPage = {
  title: 'Signed out',
  message:
    'The password was entered wrongly too many times, so this browser has been signed out. ' +
    'Log in again to go on.',
};

/** Pages chosen by the error's reason code, whatever its status; the rest go by status. */
const PAGES_BY_CODE: Record<string, ErrorPage> = {
  EPASSWORDBUSY: BUSY,
  ESIGNEDOUT: SIGNED_OUT,
  EBADCSRFTOKEN: FORM_REFUSED,
  ECROSSSITE: FORM_REFUSED,
};

/** Refusals that are security events, logged with who and from where (security/events.ts). */
const EVENTS_BY_CODE: Record<string, SecurityEvent> = {
  EBADCSRFTOKEN: 'csrf_refused',
  ECROSSSITE: 'cross_site_refused',
  EHOST: 'host_refused',
  ETHROTTLED: 'throttled',
};

/** Seconds a client should wait before retrying while the database is unavailable. */
const UNAVAILABLE_RETRY_SECONDS = 5;

const SERVER_ERROR: ErrorPage = {
  title: 'Something went wrong',
  message: 'Something went wrong on our side. Please try again in a moment.',
};

/** 4xx as declared; 503 for a database that cannot be reached; anything else is a 500. */
function statusOf(error: { status?: unknown; statusCode?: unknown } | undefined): number {
  if (isDatabaseUnavailable(error)) return 503;
  const declared = Number(error?.status ?? error?.statusCode);
  if ((declared >= 400 && declared < 500) || declared === 503) return declared;
  return 500;
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new HttpError(404));
};

/**
 * The last middleware. Client errors (oversized or malformed bodies, refused forms, unknown
 * pages) keep their 4xx status; anything else is a 500 whose details go to the log, never to the
 * page in production: a stack trace or SQL shows an attacker how the site is built.
 */
export function errorHandler(
  config: Config,
  logger: Logger,
  securityLog: SecurityLog,
): ErrorRequestHandler {
  // A login storm can refuse hundreds of password checks a second: rather than a line (and a
  // stack) for each, one line when it starts and then at most one a second, with the count.
  let busyLoggedAt = 0;
  let busyRefused = 0;
  const logBusy = (req: Request) => {
    busyRefused++;
    if (Date.now() - busyLoggedAt < 1000) return;
    logger.warn(
      { req: requestFields(req), event: 'password_work_busy', refused: busyRefused },
      'password checks busy',
    );
    busyLoggedAt = Date.now();
    busyRefused = 0;
  };

  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    const code: unknown = error?.code;
    if (code === 'EPASSWORDBUSY') {
      logBusy(req);
      res.locals.logQuietly = true;
    } else if (status >= 500) {
      // Logged once, on the request's own log line (request-logger.ts), with the SQL scrubbed.
      res.locals.failure = error instanceof Error ? error : new Error(String(error));
    }
    const event = typeof code === 'string' ? EVENTS_BY_CODE[code] : undefined;
    if (event) securityLog.record(req, event, error instanceof HttpError ? error.eventDetails : {});

    const page =
      (typeof code === 'string' ? PAGES_BY_CODE[code] : undefined) ??
      (status === 503
        ? UNAVAILABLE
        : status === 500
          ? SERVER_ERROR
          : (CLIENT_ERRORS[status] ?? BAD_REQUEST));
    res.status(status);
    const retryAfter =
      error instanceof HttpError && error.retryAfterSeconds !== undefined
        ? error.retryAfterSeconds
        : status === 503
          ? UNAVAILABLE_RETRY_SECONDS
          : undefined;
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: page.message });
      return;
    }
    res.render('error', {
      ...page,
      status,
      // The developer running `npm run dev` wants the stack; nobody else may see it.
      stack: status >= 500 && !config.isProduction ? String(error?.stack ?? error) : undefined,
    });
  };
}
