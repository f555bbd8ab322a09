import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A passkey authenticator in software, for the server's tests: an ES256 key pair, and the bytes
 * a real authenticator sends (CBOR, authenticator data, a signature over it), built here from
 * the WebAuthn spec rather than mocked, so that @simplewebauthn/server verifies them exactly as
 * it verifies a phone's. Only what "none" attestation and ES256 need.
 */

type Cbor = number | string | Uint8Array | CborMap | { [key: string]: Cbor };
type CborMap = Map<number | string, Cbor>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(length, 1);
  return out;
}

function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return Buffer.concat([
    head(5, entries.length),
    ...entries.flatMap(([key, item]) => [cbor(key), cbor(item)]),
  ]);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const FLAGS = { userPresent: 0x01, userVerified: 0x04, backupEligible: 0x08, backedUp: 0x10 };
const ATTESTED = 0x40;

export interface Ceremony {
  /** What the server sent: its options, as @simplewebauthn/server made them. */
  challenge: string;
  rpId: string;
  origin: string;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  counter: number;
  userHandle?: string;

  constructor(
    private readonly options: {
      synced?: boolean;
      userVerification?: boolean;
      counter?: number;
    } = {},
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
    }));
    // A synced passkey's counter stays 0; a device-bound one counts up from where it starts.
    this.counter = options.synced ? 0 : (options.counter ?? 1);
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private flags(attested: boolean): number {
    let flags = FLAGS.userPresent;
    if (this.options.userVerification !== false) flags |= FLAGS.userVerified;
    if (this.options.synced) flags |= FLAGS.backupEligible | FLAGS.backedUp;
    return attested ? flags | ATTESTED : flags;
  }

  private authenticatorData(rpId: string, attested: boolean): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([this.flags(attested)]), counter];
    if (attested) {
      const jwk = this.publicKey.export({ format: 'jwk' });
      const coseKey = new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), idLength, this.credentialId, cbor(coseKey));
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, ceremony: Ceremony): Buffer {
    return Buffer.from(
      JSON.stringify({ type, challenge: ceremony.challenge, origin: ceremony.origin }),
    );
  }

  /** The answer to navigator.credentials.create(), as @simplewebauthn/browser posts it. */
  register(ceremony: Ceremony & { userId: string }) {
    this.userHandle = ceremony.userId;
    const attestationObject = cbor({
      fmt: 'none',
      attStmt: {},
      authData: this.authenticatorData(ceremony.rpId, true),
    });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', ceremony)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** The answer to navigator.credentials.get(): a signature over the challenge, counter moved. */
  authenticate(ceremony: Ceremony) {
    if (this.counter > 0) this.counter += 1;
    const authenticatorData = this.authenticatorData(ceremony.rpId, false);
    const clientDataJSON = this.clientData('webauthn.get', ceremony);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
      this.privateKey,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
