import type { User } from '../accounts/users';

declare global {
  namespace Express {
    interface Request {
      /** This request's id, sent back as X-Request-Id and logged on its lines (request-logger.ts). */
      id: string;
      /** Loaded from the database by loadUser (auth/session-auth.ts) on every request. */
      user?: User;
    }
    interface Locals {
      signedIn: boolean;
      history: readonly string[];
      flash?: string;
      /** The flash cookie's name and Secure flag, for setFlash() (session/flash.ts). */
      flashCookie: { name: string; secure: boolean };
      /** The CSRF token for this response's forms (made on first use). */
      csrfToken: () => string;
      user?: User;
      /** Set by the error handler for answers it logs in summary (request-logger.ts). */
      logQuietly?: boolean;
      /** Set by the error handler: the error logged on the request's line (request-logger.ts). */
      failure?: Error;
    }
  }
}

export {};
