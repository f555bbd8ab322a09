import { isIP } from 'node:net';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { z } from 'zod';
import type { Config } from '../config';
import { defaultPasskeyName } from './passkey-names';
import { MAX_CREDENTIAL_ID_LENGTH, type Passkey, type PasskeyStore } from './passkeys';

/** How long a ceremony's challenge may wait for the authenticator's answer. */
export const CHALLENGE_MINUTES = 5;

type Purpose = SessionData['passkeyChallenge']['purpose'];

/** Where a ceremony happens: the relying party's id (a host name) and the exact origin. */
export interface RelyingParty {
  id: string;
  origin: string;
}

/**
 * The relying party for this request, or undefined where passkeys cannot work. In production,
 * PUBLIC_URL alone: its host is the id, its origin the only one accepted. In development, the
 * name the browser used (allowed-hosts.ts has already checked it is one of ours), so
 * http://localhost:3000 works as served. An IP address is never a relying-party id: browsers
 * refuse one, so at http://127.0.0.1 the pages say to use localhost.
 */
export function relyingParty(req: Request, config: Config): RelyingParty | undefined {
  const url = config.isProduction ? new URL(config.mail.publicUrl) : undefined;
  const id = url?.hostname ?? req.hostname;
  if (!id || isIP(id) || id.startsWith('[')) return undefined;
  return { id, origin: url?.origin ?? `${req.protocol}://${req.get('host') ?? id}` };
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/);

/** A browser's answer, as @simplewebauthn/browser sends it: checked in shape before anything. */
const credentialJson = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  clientExtensionResults: z.object({}).loose(),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});
const registrationJson = credentialJson.extend({
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    transports: z.array(z.string()).optional(),
  }),
});
const authenticationJson = credentialJson.extend({
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
});

/** The form field the page's script fills in: the credential, as JSON text. */
function parseCredential<T extends z.ZodType>(schema: T, field: unknown): z.infer<T> | undefined {
  if (typeof field !== 'string' || field.length > 16_000) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(field));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export type CeremonyResult<T> = { ok: true; value: T } | { ok: false; reason: string };
const refused = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * The two WebAuthn ceremonies, over @simplewebauthn/server: registering a passkey, and proving
 * one (to sign in without a password, or as the second step after one). What this adds to the
 * library is the session's part: each challenge is made for one session and one purpose, kept
 * in the server-side session, and taken out the moment an answer arrives, right or wrong, so
 * it is good for one try and for CHALLENGE_MINUTES.
 */
export function passkeyCeremonies(config: Config, passkeys: PasskeyStore) {
  const keep = (req: Request, purpose: Purpose, challenge: string, userHandle?: string) => {
    req.session.passkeyChallenge = { challenge, purpose, at: Date.now(), userHandle };
  };

  /** The session's challenge for `purpose`, used up whatever the answer turns out to be. */
  const take = (req: Request, purpose: Purpose) => {
    const kept = req.session.passkeyChallenge;
    delete req.session.passkeyChallenge;
    if (!kept || kept.purpose !== purpose) return undefined;
    if (Date.now() - kept.at > CHALLENGE_MINUTES * 60_000) return undefined;
    return kept;
  };

  const timeout = CHALLENGE_MINUTES * 60_000;

  return {
    async registrationOptions(
      req: Request,
      rp: RelyingParty,
      user: { id: number; username: string },
    ): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const existing = await passkeys.listFor(user.id);
      const userHandle = await passkeys.userHandleFor(user.id);
      const options = await generateRegistrationOptions({
        rpName: config.siteName,
        rpID: rp.id,
        userName: user.username,
        userID: Buffer.from(userHandle, 'base64url'),
        timeout,
        // No attestation: which model made the passkey is not this site's business to verify.
        attestationType: 'none',
        // The same authenticator twice would be one device posing as two.
        excludeCredentials: existing.map(({ credentialId, transports }) => ({
          id: credentialId,
          transports,
        })),
        // Discoverable, so it signs in without a username; verified (PIN, fingerprint, face), so
        // that it is two factors: something held and something known or been.
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      keep(req, 'register', options.challenge, userHandle);
      return options;
    },

    /** Verifies a registration and stores the new passkey: the passkey, or why it was refused. */
    async register(
      req: Request,
      rp: RelyingParty,
      userId: number,
      field: unknown,
    ): Promise<CeremonyResult<Passkey>> {
      const kept = take(req, 'register');
      const response: RegistrationResponseJSON | undefined = parseCredential(
        registrationJson,
        field,
      ) as RegistrationResponseJSON | undefined;
      if (!response) return refused('malformed response');
      if (!kept?.userHandle) return refused('no challenge, or an expired one');
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: kept.challenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          requireUserVerification: true,
        });
      } catch (error) {
        return refused((error as Error).message);
      }
      if (!verification.verified) return refused('not verified');
      const info = verification.registrationInfo;
      const { credential } = info;
      if (credential.id.length > MAX_CREDENTIAL_ID_LENGTH) return refused('credential id too long');
      if (await passkeys.byCredentialId(credential.id)) return refused('already registered');
      const existing = await passkeys.listFor(userId);
      await passkeys.add({
        userId,
        credentialId: credential.id,
        userHandle: kept.userHandle,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports ?? [],
        backedUp: info.credentialBackedUp,
        deviceType: info.credentialDeviceType,
        name: defaultPasskeyName(
          info.aaguid,
          existing.map(({ name }) => name),
        ),
      });
      const added = await passkeys.byCredentialId(credential.id);
      return added ? { ok: true, value: added } : refused('not stored');
    },

    /**
     * Options to prove a passkey: any of this site's (`allow` empty: the browser offers the
     * discoverable ones it holds, for a sign-in without a username), or one of `allow`'s.
     */
    async authenticationOptions(
      req: Request,
      rp: RelyingParty,
      purpose: Exclude<Purpose, 'register'>,
      allow: readonly Passkey[] = [],
    ): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout,
        userVerification: 'required',
        allowCredentials: allow.map(({ credentialId, transports }) => ({
          id: credentialId,
          transports,
        })),
      });
      keep(req, purpose, options.challenge);
      return options;
    },

    /**
     * Verifies a passkey's proof against the session's challenge for `purpose`: the passkey it
     * proved (its counter moved on), or why it was refused, with the passkey when one was named.
     * `userId`: the proof must come from this account's passkey (the second step).
     */
    async authenticate(
      req: Request,
      rp: RelyingParty,
      purpose: Exclude<Purpose, 'register'>,
      field: unknown,
      userId?: number,
    ): Promise<CeremonyResult<Passkey> & { passkey?: Passkey }> {
      const expectedChallenge = take(req, purpose)?.challenge;
      const response = parseCredential(authenticationJson, field) as
        AuthenticationResponseJSON | undefined;
      if (!response) return refused('malformed response');
      const passkey = await passkeys.byCredentialId(response.id);
      if (!passkey) return refused('unknown passkey');
      const named = (reason: string) => ({ ...refused(reason), passkey });
      if (!expectedChallenge) return named('no challenge, or an expired one');
      if (userId !== undefined && passkey.userId !== userId) return named("another account's");
      if (response.response.userHandle && response.response.userHandle !== passkey.userHandle) {
        return named('user handle does not match');
      }
      let verification;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          credential: {
            id: passkey.credentialId,
            publicKey: Buffer.from(passkey.publicKey, 'base64url'),
            counter: passkey.counter,
            transports: passkey.transports,
          },
          requireUserVerification: true,
        });
      } catch (error) {
        const message = (error as Error).message;
        // A counter that does not move on means two copies of one authenticator: a clone.
        return named(/counter/i.test(message) ? 'signature counter went backwards' : message);
      }
      if (!verification.verified) return named('not verified');
      const { newCounter, credentialBackedUp } = verification.authenticationInfo;
      if (!(await passkeys.used(passkey, newCounter, credentialBackedUp))) {
        return named('used at the same moment elsewhere');
      }
      return { ok: true, value: passkey };
    },
  };
}

export type PasskeyCeremonies = ReturnType<typeof passkeyCeremonies>;
