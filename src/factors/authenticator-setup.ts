import type { Request } from 'express';
import { qrCodeSvg } from './qr-code';
import { newTotpSecret, totpUri } from './totp';
import type { TwoFactor } from './two-factor';

/** How long a set-up may wait for its confirming code before it must be started again. */
const SETUP_MINUTES = 15;

/**
 * An authenticator app being set up: the new secret waits in the server-side session, sealed,
 * until a code from the app confirms it (then it is stored with the account) or the set-up is
 * cancelled or left for SETUP_MINUTES. Nothing reaches the account's rows before that.
 */
export function authenticatorSetup(twoFactor: TwoFactor, siteName: string) {
  return {
    start(req: Request, userId: number): void {
      const secret = twoFactor.sealSetup(userId, newTotpSecret());
      req.session.twoFactorSetup = { secret, at: Date.now() };
    },

    /** The secret this session is setting up, if it started one in the last few minutes. */
    secret(req: Request, userId: number): string | undefined {
      const setup = req.session.twoFactorSetup;
      if (!setup || Date.now() - setup.at > SETUP_MINUTES * 60_000) return undefined;
      return twoFactor.openSetup(userId, setup.secret);
    },

    end(req: Request): void {
      delete req.session.twoFactorSetup;
    },

    /** What the set-up page shows: the QR code, the key to type instead, the otpauth link. */
    async details(secret: string, username: string) {
      const uri = totpUri(secret, siteName, username);
      return {
        // In groups of four, as apps show a key typed in by hand.
        key: secret.match(/.{1,4}/g)?.join(' '),
        uri,
        qrCode: await qrCodeSvg(uri, 'QR code for your authenticator app'),
      };
    },
  };
}
