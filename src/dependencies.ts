import type { Store } from 'express-session';
import type { AccountTokens } from './accounts/account-tokens';
import type { KnownDevices } from './auth/known-devices';
import type { SessionAuth } from './auth/session-auth';
import type { Throttle } from './auth/throttle';
import type { Config } from './config';
import type { Database } from './db';
import type { PasskeyCeremonies } from './factors/passkey-ceremonies';
import type { PasskeyStore } from './factors/passkeys';
import type { TwoFactor } from './factors/two-factor';
import type { Logger } from './logger';
import type { Mailer } from './mail/mailer';
import type { DerivedKeys } from './security/keys';
import type { SecurityLog } from './security/events';
import type { UserSessions } from './session/user-sessions';

/** What createApp() is given: made once by server.ts (or a test) and shared by every request. */
export interface AppInputs {
  config: Config;
  db: Database;
  logger: Logger;
  store: Store;
  /** How mail leaves (mail/mailer.ts); made from the config when not given (tests give one). */
  mailer?: Mailer;
}

/** What the routers are given: the inputs, plus what createApp() builds from them. */
export interface AppDependencies extends AppInputs {
  mailer: Mailer;
  tokens: AccountTokens;
  keys: DerivedKeys;
  auth: SessionAuth;
  /** Browsers that have signed in to an account before (device cookies). */
  devices: KnownDevices;
  throttle: Throttle;
  securityLog: SecurityLog;
  /** Two-factor sign-in: authenticator apps and recovery codes (factors/two-factor.ts). */
  twoFactor: TwoFactor;
  /** An account's passkeys (factors/passkeys.ts), and the WebAuthn ceremonies that use them. */
  passkeys: PasskeyStore;
  passkeyCeremonies: PasskeyCeremonies;
  /** A user's sessions, by the table's user_id; undefined with SESSION_STORE=memory. */
  userSessions?: UserSessions;
}
