import { createHash, createHmac } from 'node:crypto';
import { Browser } from './helpers/browser';
import { sessionIdOf } from './helpers/cookies';
import { logLines } from './helpers/log-lines';
import { createTestApp, logIn, register, sessionRowOf, type TestApp } from './helpers/test-app';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes-for-keys';

/** What cookie-signature computes: base64 HMAC-SHA256 of the id, padding removed. */
const cookieSignature = (id: string, key: string) =>
  createHmac('sha256', key).update(id).digest('base64').replace(/=+$/, '');

describe('one key per purpose, derived from each secret', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_SECRETS: SECRET });
  });
  afterAll(() => t.close());

  it('SECURITY+ 12: the session cookie is not signed with the configured secret itself', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'signed');
    const value = decodeURIComponent(String(browser.cookie('sid')));
    const id = sessionIdOf(String(browser.cookie('sid')));
    const signature = value.slice(value.lastIndexOf('.') + 1);
    expect(signature).toMatch(/^[\w+/]{43}$/);
    expect(signature).not.toBe(cookieSignature(id, SECRET));
  });

  it('SECURITY+ 12: the credential stamp is not keyed with the configured secret itself', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'stamped');
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    const [user] = await t.db('users').where({ username: 'stamped' });
    const withSecret = createHmac('sha256', SECRET)
      .update(`session-credentials:${user.password_hash}`)
      .digest('base64url');
    expect(row?.sess.authHash).toEqual(expect.any(String));
    expect(row?.sess.authHash).not.toBe(withSecret);
  });

  it('SECURITY+ 12: the CSRF token is not an HMAC under the configured secret itself', async () => {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const [hmac = '', random = ''] = token.split('.');
    // csrf-csrf's message for an anonymous form: the empty session identifier, then the random.
    const withSecret = createHmac('sha256', SECRET)
      .update(`0!!${random.length}!${random}`)
      .digest('hex');
    expect(hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(hmac).not.toBe(withSecret);
  });
});

describe('the username tag in logs', () => {
  function appLogging(secret: string) {
    const { lines, logStream } = logLines();
    return {
      lines,
      app: createTestApp({ SESSION_SECRETS: secret, LOG_LEVEL: 'info' }, { logStream }),
    };
  }

  async function tagOfFailedLogin(secret: string, username: string): Promise<string> {
    const { lines, app } = appLogging(secret);
    const t = await app;
    try {
      expect((await logIn(new Browser(t.app), username, 'not the password at all')).status).toBe(
        401,
      );
      const line = lines.find((entry) => entry.event === 'login_failed');
      return String(line?.account);
    } finally {
      await t.close();
    }
  }

  it('SECURITY+ 9: is a keyed HMAC, not a hash anyone can recompute from a list of names', async () => {
    const tag = await tagOfFailedLogin(SECRET, 'alice');
    const unsalted = createHash('sha256').update('alice').digest('hex');
    expect(tag).toMatch(/^[0-9a-f]{12,}$/);
    expect(unsalted.startsWith(tag)).toBe(false);
    expect(tag).not.toBe(createHmac('sha256', SECRET).update('alice').digest('hex').slice(0, 16));
  });

  it('SECURITY+ 9: is stable for one secret and different under another', async () => {
    const first = await tagOfFailedLogin(SECRET, 'bob');
    expect(await tagOfFailedLogin(SECRET, 'BOB')).toBe(first);
    expect(await tagOfFailedLogin(`${SECRET}-other`, 'bob')).not.toBe(first);
  });
});
