import 'express-session';

// What a session row holds, and nothing more: the user's id (never the row, hash or email, so a
// leaked sessions table leaks no credentials) and what the session itself needs.
declare module 'express-session' {
  interface SessionData {
    /** Set by logIn() after the session id has been regenerated. */
    userId: number;
    /** When logIn() ran (ms since the epoch), for the absolute timeout. */
    loginAt: number;
    /** When the password was last confirmed for a sensitive action (ms since the epoch). */
    confirmedAt: number;
    /** Derived from the password hash at login; a password change makes it stale. */
    authHash: string;
    /** Paths of the pages this signed-in session viewed, newest first, capped (pageHistory). */
    history: string[];
  }
}
