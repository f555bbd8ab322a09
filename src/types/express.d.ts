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
      user?: User;
    }
  }
}

export {};
