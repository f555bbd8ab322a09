import { Secret, TOTP } from 'otpauth';

/**
 * Time-based one-time passwords (RFC 6238) with otpauth: a small, maintained library with no
 * dependencies in its Node build, which runs the HMAC with node:crypto, and which parses and
 * writes the `otpauth://` URIs authenticator apps read. The parameters are the ones every app
 * supports: SHA-1, 6 digits, a new code every 30 seconds (RFC 6238's defaults; SHA-1 is sound
 * in an HMAC).
 */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Codes from one step before and one after are accepted too: phones' clocks drift. */
const DRIFT_STEPS = 1;
/** 160 bits, the length RFC 4226 recommends for the shared secret. */
const SECRET_BYTES = 20;

/** A new shared secret, in base32: what the QR code carries and the user may type instead. */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

function totpFor(secret: string, label = '', issuer = ''): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** The `otpauth://totp/…` URI: issuer = the site's name, label = the username. */
export function totpUri(secret: string, issuer: string, username: string): string {
  return totpFor(secret, username, issuer).toString();
}

/** The 30-second step a time falls in: what "a code is accepted once" counts by. */
export function totpStep(at = Date.now()): number {
  return Math.floor(at / 1000 / PERIOD_SECONDS);
}

/**
 * The step `code` belongs to, if it is this step's code or one of its neighbours'; otherwise
 * undefined. Only six digits are ever compared (otpauth compares in constant time).
 */
export function totpCodeStep(secret: string, code: string, at = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpFor(secret).validate({ token: code, timestamp: at, window: DRIFT_STEPS });
  return delta === null ? undefined : totpStep(at) + delta;
}
