import type { User } from '../auth/users';

declare global {
  namespace Express {
    interface Request {
      /** Loaded from the database by requireLogin on every request it guards. */
      user?: User;
    }
    interface Locals {
      signedIn: boolean;
      history: readonly string[];
      flash?: string;
      /** The CSRF token for this response's forms (made on first use). */
      csrfToken: () => string;
      user?: User;
    }
  }
}

export {};
