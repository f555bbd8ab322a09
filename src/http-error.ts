import type { SecurityEventDetails } from './security/events';

/** An error that carries the HTTP status to answer with (and optionally a reason code). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code?: string,
    /** For 429 and 503: when to try again, sent as Retry-After. */
    readonly retryAfterSeconds?: number,
    /** Who and why, for refusals that are logged as security events (EVENTS_BY_CODE). */
    readonly eventDetails?: SecurityEventDetails,
  ) {
    super(code ?? `HTTP ${status}`);
    this.name = 'HttpError';
  }
}
