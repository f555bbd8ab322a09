import 'express-session';

// What a session row holds, and nothing more: the user's id (never the row, hash or email, so a
// leaked sessions table leaks no credentials) and what the session itself needs.
/** What a passkey ceremony is for: a challenge made for one is refused by the others. */
type PasskeyPurpose = 'register' | 'sign-in' | 'second-step';

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
    /**
     * When the session cookie was last sent again for a session in use (ms since the epoch):
     * it is re-sent only when its expiry would move by a step (session/cookie-renewal.ts).
     */
    cookieRenewedAt: number;
    /** Paths of the pages this signed-in session viewed, newest first, capped (pageHistory). */
    history: string[];
    /**
     * How logIn() was reached: the password alone, with a second factor (which one), or a
     * passkey, which is two factors in one.
     */
    signInMethod:
      'password' | 'password+totp' | 'password+recovery-code' | 'password+passkey' | 'passkey';
    /**
     * A sign-in half done: the password was right for `userId` at `at` (ms), and the account
     * asks for a second factor. No `userId` yet, so every page treats the session as anonymous.
     */
    pendingSignIn: {
      userId: number;
      at: number;
      failures: number;
      /** Where to go once signed in (a same-site path). */
      next?: string;
      /** The browser had no device cookie for the account: its owner hears of the sign-in. */
      newDevice: boolean;
    };
    /** An authenticator app being set up: its secret, sealed, until a code confirms it. */
    twoFactorSetup: { secret: string; at: number };
    /**
     * The challenge of a passkey ceremony under way (registering one, or signing in with one):
     * random, for this session alone, used once whatever the outcome, and only for `purpose`.
     */
    passkeyChallenge: {
      challenge: string;
      purpose: PasskeyPurpose;
      at: number;
      /** Registering: the user handle the options gave the authenticator, to store with it. */
      userHandle?: string;
    };
  }
}
