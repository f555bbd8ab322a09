import { sessionIdOf } from './helpers/cookies';
import { logLines } from './helpers/log-lines';
import { createTestAppWithMail, type MailServer } from './helpers/mail-server';
import {
  addPasskey,
  ORIGIN,
  passkeyBrowser,
  passkeyOptions,
  RP_ID,
  signInWithPasskey,
} from './helpers/passkeys';
import { SoftwareAuthenticator } from './helpers/software-authenticator';
import {
  createTestApp,
  editSessionRow,
  PASSWORD,
  PRODUCTION_ENV,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';
import { turnOnTwoFactor } from './helpers/two-factor';
import { Browser } from './helpers/browser';
import { markEmailVerified, setPendingEmail } from '../src/accounts/users';

let t: TestApp;
let mail: MailServer;
const { lines, logStream } = logLines();
beforeAll(async () => {
  ({ t, mail } = await createTestAppWithMail({ LOG_LEVEL: 'info' }, { logStream }));
});
afterAll(() => t.close());

/** A signed-in account with a confirmed address, in a browser that asks for localhost. */
async function account(username: string, app = t) {
  const browser = passkeyBrowser(app.app);
  await register(browser, username);
  const row: { id: number } = await app.db('users').where({ username }).first('id');
  const email = `${username}@example.org`;
  await setPendingEmail(app.db, row.id, email);
  await markEmailVerified(app.db, row.id, email);
  return { browser, id: row.id, email };
}

const passkeyRows = (userId: number) => t.db('passkeys').where({ user_id: userId });

async function logOut(browser: Browser) {
  await browser.submit('/logout', {}, { from: '/dashboard' });
}

describe('adding a passkey: /account/passkeys', () => {
  it('is linked from the account page, and lists none at first', async () => {
    const { browser } = await account('pk_linked');
    expect((await browser.get('/account')).text).toContain('href="/account/passkeys"');
    const page = await browser.get('/account/passkeys');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('You have no passkeys yet.');
    expect(page.text).toContain('Add a passkey');
    expect(page.text).toContain('src="/assets/passkeys.js"');
  });

  it('asks for a discoverable, user-verified passkey for this host, excluding those it has', async () => {
    const { browser, id } = await account('pk_options');
    const { res, options } = await passkeyOptions(
      browser,
      '/account/passkeys',
      '/account/passkeys/options',
    );
    expect(res.status).toBe(200);
    expect(options.rp?.id).toBe(RP_ID);
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    // The user handle is random, not the database id or the name.
    expect(Buffer.from(options.user?.id ?? '', 'base64url')).toHaveLength(32);
    expect(options.excludeCredentials).toEqual([]);

    const authenticator = new SoftwareAuthenticator();
    expect((await addPasskey(browser, authenticator)).res.status).toBe(303);
    const again = await passkeyOptions(browser, '/account/passkeys', '/account/passkeys/options');
    expect(again.options.excludeCredentials?.map(({ id }) => id)).toEqual([authenticator.id]);
    // Every passkey of one account carries the same handle: an authenticator replaces its own.
    const [row] = await passkeyRows(id);
    expect(again.options.user?.id).toBe(row.user_handle);
  });

  it('stores the public key only, names it, logs it and tells the owner', async () => {
    const { browser, id, email } = await account('pk_added');
    const authenticator = new SoftwareAuthenticator({ synced: true });
    const { res } = await addPasskey(browser, authenticator);
    expect([res.status, res.headers.location]).toEqual([303, '/account/passkeys']);
    const [row] = await passkeyRows(id);
    expect(row).toMatchObject({
      credential_id: authenticator.id,
      name: 'Passkey 1',
      device_type: 'multiDevice',
      transports: 'internal',
    });
    expect(Boolean(row.backed_up)).toBe(true);
    expect(Number(row.counter)).toBe(0);
    const page = await browser.get('/account/passkeys');
    expect(page.text).toContain('Your passkey was added.');
    expect(page.text).toContain('Passkey 1');
    expect(page.text).toContain('Yes: your password manager');
    expect(lines).toContainEqual(expect.objectContaining({ event: 'passkey_added', userId: id }));
    const notice = await mail.next(email, 'Passkeys changed on your account');
    expect(notice.text).toContain('A passkey, "Passkey 1", was just added');
  });

  it('needs a recent password: the options answer 403 with where to confirm it', async () => {
    const { browser } = await account('pk_sudo');
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 60 * 60_000;
    });
    const { res } = await passkeyOptions(browser, '/account/passkeys', '/account/passkeys/options');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'Confirm your password first.',
      confirm: '/confirm-password',
    });
  });

  it('refuses an answer for another origin, an old challenge, or one used already', async () => {
    const { browser, id } = await account('pk_refused');
    const phishing = await addPasskey(browser, new SoftwareAuthenticator(), (ceremony) => {
      ceremony.origin = 'https://localhost.evil.example';
    });
    expect(phishing.res.status).toBe(400);
    expect(phishing.res.text).toContain('The passkey was not added.');

    // The same answer again: its challenge went with the first try.
    const authenticator = new SoftwareAuthenticator();
    const first = await addPasskey(browser, authenticator, (ceremony) => {
      ceremony.challenge = 'bm90IHRoZSBjaGFsbGVuZ2U';
    });
    expect(first.res.status).toBe(400);
    const token = await browser.csrfToken('/account/passkeys');
    const replay = await browser.post('/account/passkeys', {
      _csrf: token,
      credential: JSON.stringify(first.credential),
    });
    expect(replay.status).toBe(400);

    // A challenge older than 5 minutes.
    const { options } = await passkeyOptions(
      browser,
      '/account/passkeys',
      '/account/passkeys/options',
    );
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      (sess.passkeyChallenge as { at: number }).at = Date.now() - 6 * 60_000;
    });
    const late = await browser.post('/account/passkeys', {
      _csrf: await browser.csrfToken('/account/passkeys'),
      credential: JSON.stringify(
        new SoftwareAuthenticator().register({
          challenge: options.challenge,
          origin: ORIGIN,
          rpId: RP_ID,
          userId: options.user?.id ?? '',
        }),
      ),
    });
    expect(late.status).toBe(400);
    expect(await passkeyRows(id)).toHaveLength(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'passkey_failed',
        userId: id,
        reason: 'no challenge, or an expired one',
      }),
    );
  });

  it('refuses a passkey that did not verify its user (no PIN, fingerprint or face)', async () => {
    const { browser, id } = await account('pk_no_uv');
    const { res } = await addPasskey(
      browser,
      new SoftwareAuthenticator({ userVerification: false }),
    );
    expect(res.status).toBe(400);
    expect(await passkeyRows(id)).toHaveLength(0);
  });

  it('a malformed answer is a 400 with the page, never a 500', async () => {
    const { browser } = await account('pk_malformed');
    for (const credential of ['', 'not json', '{"id":1}', 'x'.repeat(17_000)]) {
      const token = await browser.csrfToken('/account/passkeys');
      const res = await browser.post('/account/passkeys', { _csrf: token, credential });
      expect(res.status).toBe(400);
    }
  });

  it("in production, the relying party is PUBLIC_URL's host, whatever name was asked for", async () => {
    const prod = await createTestApp({
      ...PRODUCTION_ENV,
      PUBLIC_URL: 'https://site.example',
      ALLOWED_HOSTS: 'www.site.example',
    });
    try {
      const browser = new Browser(prod.app, { https: true, headers: { Host: 'www.site.example' } });
      await register(browser, 'pk_production');
      const { options } = await passkeyOptions(
        browser,
        '/account/passkeys',
        '/account/passkeys/options',
      );
      expect(options.rp?.id).toBe('site.example');
      // An answer made at the name the browser used is refused: the origin must be PUBLIC_URL's.
      const authenticator = new SoftwareAuthenticator();
      const token = await browser.csrfToken('/account/passkeys');
      const elsewhere = authenticator.register({
        challenge: options.challenge,
        origin: 'https://www.site.example',
        rpId: 'site.example',
        userId: options.user?.id ?? '',
      });
      const res = await browser.post('/account/passkeys', {
        _csrf: token,
        credential: JSON.stringify(elsewhere),
      });
      expect(res.status).toBe(400);
      const { res: added } = await addPasskey(browser, authenticator, (ceremony) => {
        ceremony.origin = 'https://site.example';
        ceremony.rpId = 'site.example';
      });
      expect(added.status).toBe(303);
    } finally {
      await prod.close();
    }
  });

  it('at 127.0.0.1 the page says to use localhost, and gives no challenge', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'pk_by_address');
    const page = await browser.get('/account/passkeys');
    expect(page.text).toContain('never to an address like 127.0.0.1');
    expect(page.text).not.toContain('data-passkey="register"');
    const { res } = await passkeyOptions(browser, '/account/passkeys', '/account/passkeys/options');
    expect(res.status).toBe(409);
  });
});

describe('signing in with a passkey, without a username', () => {
  it('signs in under a new session id, as "passkey", with no code even with two-factor on', async () => {
    const { browser, id } = await account('pk_sign_in');
    await turnOnTwoFactor(browser);
    const authenticator = new SoftwareAuthenticator();
    await addPasskey(browser, authenticator);
    await logOut(browser);

    const before = sessionIdOf(String(browser.cookie('sid')));
    const { res } = await signInWithPasskey(browser, authenticator);
    expect([res.status, res.headers.location]).toEqual([303, '/dashboard']);
    expect(sessionIdOf(String(browser.cookie('sid')))).not.toBe(before);
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(row?.sess).toMatchObject({ userId: id, signInMethod: 'passkey' });
    expect((await browser.get('/dashboard')).status).toBe(200);
    const [stored] = await passkeyRows(id);
    expect(Number(stored.counter)).toBe(authenticator.counter);
    expect(stored.last_used_at).not.toBeNull();
    expect((await browser.get('/account/sessions')).text).toContain('Passkey');
    // The teaching panel: the session's own JSON, and the row's sign_in_method column.
    const panel = (await browser.get('/session')).text;
    expect(panel).toContain('&quot;signInMethod&quot;: &quot;passkey&quot;');
    expect(panel).toContain('<dt><code>sign_in_method</code></dt><dd>passkey</dd>');
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'login_succeeded', userId: id, reason: 'passkey' }),
    );
  });

  it('the login page offers it: a button, and passkeys in the username autofill', async () => {
    const page = await passkeyBrowser(t.app).get('/login');
    expect(page.text).toContain('autocomplete="username webauthn"');
    expect(page.text).toContain('Sign in with a passkey');
    const byAddress = await new Browser(t.app).get('/login');
    expect(byAddress.text).toContain('autocomplete="username"');
    expect(byAddress.text).not.toContain('Sign in with a passkey');
  });

  it('refuses a replayed answer: its challenge was used up by the first', async () => {
    const { browser } = await account('pk_replay');
    const authenticator = new SoftwareAuthenticator();
    await addPasskey(browser, authenticator);
    await logOut(browser);
    const { credential } = await signInWithPasskey(browser, authenticator);
    await logOut(browser);
    const replay = await browser.post('/login/passkey', {
      _csrf: await browser.csrfToken('/login'),
      credential: JSON.stringify(credential),
    });
    expect(replay.status).toBe(401);
    expect((await browser.get('/dashboard')).status).toBe(302);
  });

  it('refuses a challenge made for another purpose, another origin, or an unknown passkey', async () => {
    const { browser } = await account('pk_purpose');
    const authenticator = new SoftwareAuthenticator();
    await addPasskey(browser, authenticator);
    // A registration challenge, answered as a sign-in.
    const { options, token } = await passkeyOptions(
      browser,
      '/account/passkeys',
      '/account/passkeys/options',
    );
    await logOut(browser);
    const crossed = await browser.post('/login/passkey', {
      _csrf: await browser.csrfToken('/login'),
      credential: JSON.stringify(
        authenticator.authenticate({ challenge: options.challenge, origin: ORIGIN, rpId: RP_ID }),
      ),
    });
    expect(token).toBeDefined();
    expect(crossed.status).toBe(401);

    const phished = await signInWithPasskey(browser, authenticator, {
      tamper: (ceremony) => {
        ceremony.origin = 'https://login.evil.example';
      },
    });
    expect(phished.res.status).toBe(401);
    expect(phished.res.text).toContain('That passkey did not sign you in.');

    const stranger = await signInWithPasskey(browser, new SoftwareAuthenticator());
    expect(stranger.res.status).toBe(401);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'passkey_failed', reason: 'unknown passkey' }),
    );
  });

  it('refuses a signature counter that goes backwards (a cloned authenticator), and logs it', async () => {
    const { browser, id } = await account('pk_clone');
    const authenticator = new SoftwareAuthenticator({ counter: 10 });
    await addPasskey(browser, authenticator);
    await logOut(browser);
    expect((await signInWithPasskey(browser, authenticator)).res.status).toBe(303);
    await logOut(browser);
    authenticator.counter = 3;
    const cloned = await signInWithPasskey(browser, authenticator);
    expect(cloned.res.status).toBe(401);
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'passkey_failed',
        userId: id,
        reason: 'signature counter went backwards',
      }),
    );
  });

  it('a synced passkey, whose counter stays 0, signs in again and again', async () => {
    const { browser } = await account('pk_synced');
    const authenticator = new SoftwareAuthenticator({ synced: true });
    await addPasskey(browser, authenticator);
    for (let i = 0; i < 3; i++) {
      await logOut(browser);
      expect((await signInWithPasskey(browser, authenticator)).res.status).toBe(303);
    }
  });

  it('a removed passkey signs in no more, and its owner hears of it', async () => {
    const { browser, id, email } = await account('pk_removed');
    const authenticator = new SoftwareAuthenticator();
    await addPasskey(browser, authenticator);
    const [row] = await passkeyRows(id);
    const removed = await browser.submit(
      `/account/passkeys/${row.id}/remove`,
      {},
      { from: '/account/passkeys' },
    );
    expect([removed.status, removed.headers.location]).toEqual([303, '/account/passkeys']);
    expect(await passkeyRows(id)).toHaveLength(0);
    await mail.next(email, 'Passkeys changed on your account');
    const notice = await mail.next(email, 'Passkeys changed on your account');
    expect(notice.text).toContain('was just removed');
    await logOut(browser);
    expect((await signInWithPasskey(browser, authenticator)).res.status).toBe(401);
  });

  it("counts refusals against the account's second-step allowance", async () => {
    const limited = await createTestApp({ SECOND_STEP_FAILURES_PER_ACCOUNT: '2' });
    try {
      const { browser } = await account('pk_limited', limited);
      const authenticator = new SoftwareAuthenticator();
      await addPasskey(browser, authenticator);
      await logOut(browser);
      const wrongOrigin = {
        tamper: (c: { origin: string }) => void (c.origin = 'https://x.example'),
      };
      for (let i = 0; i < 2; i++) {
        expect((await signInWithPasskey(browser, authenticator, wrongOrigin)).res.status).toBe(401);
      }
      // Right, but the allowance is spent: refused like a wrong one.
      expect((await signInWithPasskey(browser, authenticator)).res.status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('a passkey in place of the code', () => {
  it('completes a two-factor sign-in as "password+passkey"', async () => {
    const { browser, id } = await account('pk_second');
    await turnOnTwoFactor(browser);
    const authenticator = new SoftwareAuthenticator();
    await addPasskey(browser, authenticator);
    await logOut(browser);
    const first = await browser.submit('/login', { username: 'pk_second', password: PASSWORD });
    expect(first.headers.location).toBe('/login/two-factor');
    expect((await browser.get('/login/two-factor')).text).toContain('Use a passkey instead');
    const { res } = await signInWithPasskey(browser, authenticator, { second: true });
    expect([res.status, res.headers.location]).toEqual([303, '/dashboard']);
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(row?.sess).toMatchObject({ userId: id, signInMethod: 'password+passkey' });
  });

  it("refuses another account's passkey", async () => {
    const { browser: owner } = await account('pk_other_owner');
    const theirs = new SoftwareAuthenticator();
    await addPasskey(owner, theirs);
    const { browser } = await account('pk_second_victim');
    await turnOnTwoFactor(browser);
    await addPasskey(browser, new SoftwareAuthenticator());
    await logOut(browser);
    await browser.submit('/login', { username: 'pk_second_victim', password: PASSWORD });
    const { res } = await signInWithPasskey(browser, theirs, { second: true });
    expect(res.status).toBe(401);
    expect((await browser.get('/dashboard')).status).toBe(302);
  });
});

describe('managing passkeys', () => {
  it('renames one, and refuses an empty name with a message', async () => {
    const { browser, id } = await account('pk_rename');
    await addPasskey(browser, new SoftwareAuthenticator());
    const [row] = await passkeyRows(id);
    const from = { from: '/account/passkeys' };
    const field = `name-${row.id}`;
    const empty = await browser.submit(
      `/account/passkeys/${row.id}/rename`,
      { [field]: ' ' },
      from,
    );
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Give the passkey a name.');
    const long = 'x'.repeat(101);
    const tooLong = await browser.submit(
      `/account/passkeys/${row.id}/rename`,
      { [field]: long },
      from,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain('Keep the name under 100 characters.');
    // What was typed comes back in the field, to be shortened rather than typed again.
    expect(tooLong.text).toContain(`value="${long}"`);
    const renamed = await browser.submit(
      `/account/passkeys/${row.id}/rename`,
      { [field]: 'Work laptop' },
      from,
    );
    expect(renamed.status).toBe(303);
    expect((await passkeyRows(id))[0].name).toBe('Work laptop');
  });

  it("cannot touch another account's passkey; a non-number id is a 404", async () => {
    const { browser: owner, id } = await account('pk_mine');
    await addPasskey(owner, new SoftwareAuthenticator());
    const [row] = await passkeyRows(id);
    const { browser } = await account('pk_not_mine');
    const from = { from: '/account/passkeys' };
    await browser.submit(`/account/passkeys/${row.id}/remove`, {}, from);
    await browser.submit(`/account/passkeys/${row.id}/rename`, { [`name-${row.id}`]: 'x' }, from);
    expect(await passkeyRows(id)).toMatchObject([{ name: 'Passkey 1' }]);
    const odd = await browser.submit('/account/passkeys/NaN/remove', {}, from);
    expect(odd.status).toBe(404);
  });

  it('the passkeys go with the account', async () => {
    const { browser, id } = await account('pk_deleted');
    await addPasskey(browser, new SoftwareAuthenticator());
    await browser.submit('/account/delete', { password: PASSWORD }, { from: '/account' });
    expect(await passkeyRows(id)).toHaveLength(0);
  });
});
