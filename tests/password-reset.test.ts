import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markEmailVerified, setPendingEmail } from '../src/accounts/users';
import { sessionTimestamp } from '../src/session-store/knex-store';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { logLines } from './helpers/log-lines';
import {
  confirmAddress,
  follow,
  linkIn,
  createTestAppWithMail,
  type MailServer,
} from './helpers/mail-server';
import {
  createTestApp,
  logIn,
  PASSWORD,
  PRODUCTION_ENV,
  register,
  type TestApp,
} from './helpers/test-app';

const PUBLIC_URL = 'https://site.example';
const NEW_PASSWORD = 'a fresh start after forgetting';

let mail: MailServer;
let t: TestApp;
const { lines, logStream } = logLines();
// Every test client is 127.0.0.1: the limits are raised here and tested on their own below.
beforeAll(async () => {
  ({ t, mail } = await createTestAppWithMail({ PUBLIC_URL, LOG_LEVEL: 'info' }, { logStream }));
});
afterAll(() => t.close());

/** An account with a verified address, signed in in the browser returned. */
async function withAddress(username: string, email = `${username}@example.org`) {
  const browser = new Browser(t.app);
  await register(browser, username);
  const { id } = await t.db('users').where({ username }).first();
  await setPendingEmail(t.db, id, email);
  await markEmailVerified(t.db, id, email);
  return { browser, email, id };
}

const forgot = (email: string, headers: Record<string, string> = {}) =>
  new Browser(t.app).submit('/password/forgot', { email }, { headers });

/** Asks for a link and returns it as the mail carried it. */
async function resetLink(email: string): Promise<string> {
  expect((await forgot(email)).status).toBe(200);
  return linkIn(await mail.next(email, 'Reset your password'));
}

describe('password reset by e-mailed link', () => {
  it('the whole flow: ask, follow the link, choose a password, log in with it', async () => {
    const { email } = await withAddress('forgetful');
    const link = await resetLink(email);
    expect(link).toMatch(new RegExp(`^${PUBLIC_URL}/password/reset/[\\w-]{43}$`));

    const browser = new Browser(t.app);
    const landed = await follow(browser, link);
    expect(landed.status).toBe(303);
    expect(landed.headers.location).toBe('/password/reset');
    const form = await browser.get('/password/reset');
    expect(form.status).toBe(200);
    expect(form.text).toContain('Choose a new password');
    expect(form.text).toContain('forgetful');

    const done = await browser.submit('/password/reset', { password: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/login');
    expect((await browser.get('/login')).text).toContain('Log in with your new password.');

    expect((await logIn(new Browser(t.app), 'forgetful', PASSWORD)).status).toBe(401);
    expect((await logIn(new Browser(t.app), 'forgetful', NEW_PASSWORD)).status).toBe(303);
    const notice = await mail.next(email);
    expect(notice.subject).toBe('Your password was changed');
    expect(notice.text).toContain('every browser that was');
    expect(notice.html).toContain('<a href="https://site.example/password/forgot">');
  });

  it('SECURITY+ 16: gives the same answer, status and page whether or not an account has the address', async () => {
    await withAddress('known_one');
    const known = await forgot('known_one@example.org');
    const unknown = await forgot('nobody-here@example.org');
    const unverified = await forgot('pending-only@example.org');
    const strip = (text: string) => text.replace(/value="[^"]*"/g, '');
    expect([known.status, unknown.status, unverified.status]).toEqual([200, 200, 200]);
    expect(strip(unknown.text)).toBe(strip(known.text));
    expect(strip(unverified.text)).toBe(strip(known.text));
    await mail.next('known_one@example.org');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const to = mail.messages.flatMap((m) => [m.to].flat().map((list) => list?.text));
    expect(to).not.toContain('nobody-here@example.org');
  });

  it('SECURITY+ 16: an address only waiting for its confirmation gets no reset link', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'unconfirmed');
    const { id } = await t.db('users').where({ username: 'unconfirmed' }).first();
    await setPendingEmail(t.db, id, 'unconfirmed@example.org');
    expect((await forgot('unconfirmed@example.org')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await t.db('account_tokens').where({ user_id: id, purpose: 'reset-password' })).toEqual(
      [],
    );
  });

  it('SECURITY+ 17: the table keeps only the token’s SHA-256, never the token', async () => {
    const { id, email } = await withAddress('hashed_at_rest');
    const token = (await resetLink(email)).split('/').at(-1) ?? '';
    const rows = await t.db('account_tokens').where({ user_id: id });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('SECURITY+ 18: a link expires', async () => {
    const { id, email } = await withAddress('too_late');
    const link = await resetLink(email);
    await t
      .db('account_tokens')
      .where({ user_id: id })
      .update({ expires_at: sessionTimestamp(t.db, Date.now() - 1000) });
    const res = await follow(new Browser(t.app), link);
    expect(res.status).toBe(400);
    expect(res.text).toContain('This link has expired');
  });

  it('SECURITY+ 18: a link works once', async () => {
    const { email } = await withAddress('once_only');
    const link = await resetLink(email);
    const first = new Browser(t.app);
    await follow(first, link);
    expect((await first.submit('/password/reset', { password: NEW_PASSWORD })).status).toBe(303);
    await mail.next(email);
    const again = new Browser(t.app);
    expect((await follow(again, link)).status).toBe(400);
  });

  it('SECURITY+ 18: a newer link kills the older one', async () => {
    const { email } = await withAddress('two_links');
    const older = await resetLink(email);
    const newer = await resetLink(email);
    expect((await follow(new Browser(t.app), older)).status).toBe(400);
    expect((await follow(new Browser(t.app), newer)).status).toBe(303);
  });

  it('SECURITY+ 18: changing the password on the account page kills every reset link', async () => {
    const { browser, email } = await withAddress('changed_meanwhile');
    const link = await resetLink(email);
    const changed = await browser.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'changed while a link was out' },
      { from: '/account' },
    );
    expect(changed.status).toBe(303);
    expect((await follow(new Browser(t.app), link)).status).toBe(400);
  });

  it('SECURITY+ 18: a link followed in one tab and spent in another is refused at the form', async () => {
    const { email } = await withAddress('two_tabs');
    const link = await resetLink(email);
    const [tab1, tab2] = [new Browser(t.app), new Browser(t.app)];
    await follow(tab1, link);
    await follow(tab2, link);
    const tab2Form = await tab2.csrfToken('/password/reset');
    expect((await tab1.submit('/password/reset', { password: NEW_PASSWORD })).status).toBe(303);
    const late = await tab2.post('/password/reset', {
      password: 'another new password here',
      _csrf: tab2Form,
    });
    expect(late.status).toBe(400);
    expect(late.text).toContain('This link has expired');
  });

  it('SECURITY+ 19: the page that receives the token sends no Referer and is not cached, and the token leaves the address bar', async () => {
    const { email } = await withAddress('leak_proof');
    const link = await resetLink(email);
    const browser = new Browser(t.app);
    const landed = await follow(browser, link);
    expect(landed.headers['referrer-policy']).toBe('no-referrer');
    expect(landed.headers['cache-control']).toBe('no-store');
    const token = link.split('/').at(-1) ?? '';
    expect(landed.headers.location).not.toContain(token);
    const cookie = setCookie(landed, 'reset');
    expect(cookie?.attributes).toMatchObject({ httponly: true, path: '/', samesite: 'Lax' });
    // The form's own address holds no token; its policy stays the site's, so that the browser
    // still sends the Origin the same-origin check wants with the form's POST.
    const form = await browser.get('/password/reset');
    expect(form.headers['referrer-policy']).toBe('same-origin');
    expect(form.headers['cache-control']).toBe('no-store');
    expect(form.text).not.toContain(token);
  });

  it('SECURITY+ 24: no mailed token reaches the request log: the route’s pattern is logged instead', async () => {
    const { browser, email } = await withAddress('log_reader');
    const resetToken = (await resetLink(email)).split('/').at(-1) ?? '';
    await browser.submit(
      '/account/email',
      { email: 'log_reader_2@example.org' },
      { from: '/account' },
    );
    const verifyToken =
      linkIn(await mail.next('log_reader_2@example.org'))
        .split('/')
        .at(-1) ?? '';
    const from = lines.length;
    await follow(new Browser(t.app), `${PUBLIC_URL}/password/reset/${resetToken}`);
    await follow(browser, `${PUBLIC_URL}/email/verify/${verifyToken}`);
    const logged = lines.slice(from);
    const paths = logged.map((line) => (line.req as { path?: string } | undefined)?.path);
    expect(paths).toContain('/password/reset/:token');
    expect(paths).toContain('/email/verify/:token');
    expect(JSON.stringify(lines)).not.toContain(resetToken);
    expect(JSON.stringify(lines)).not.toContain(verifyToken);
  });

  it('SECURITY+ 20: links are built from PUBLIC_URL: a forged X-Forwarded-Host changes nothing, a forged Host is refused', async () => {
    const { email } = await withAddress('host_forger');
    const res = await forgot(email, { 'X-Forwarded-Host': 'evil.example' });
    expect(res.status).toBe(200);
    const link = linkIn(await mail.next(email));
    expect(link.startsWith(`${PUBLIC_URL}/password/reset/`)).toBe(true);
    expect((await mail.messages.at(-1))?.html).not.toContain('evil.example');
    const sent = mail.messages.length;
    expect((await forgot(email, { Host: 'evil.example' })).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mail.messages.length).toBe(sent);
  });

  it('SECURITY+ 21: setting the new password ends every session of the user, by user id', async () => {
    const { browser, email, id } = await withAddress('everywhere_out');
    const phone = new Browser(t.app);
    await logIn(phone, 'everywhere_out');
    expect(await t.db('sessions').where({ user_id: id })).toHaveLength(2);
    const link = await resetLink(email);
    const resetter = new Browser(t.app);
    await follow(resetter, link);
    await resetter.submit('/password/reset', { password: NEW_PASSWORD });
    expect(await t.db('sessions').where({ user_id: id })).toEqual([]);
    expect((await browser.get('/dashboard')).status).toBe(302);
    expect((await phone.get('/dashboard')).status).toBe(302);
    expect(await t.db('account_tokens').where({ user_id: id, purpose: 'reset-password' })).toEqual(
      [],
    );
  });

  it('SECURITY+ 26: a link mailed to the old address dies when a new address is verified', async () => {
    const { browser, email, id } = await withAddress('moving_house');
    const link = await resetLink(email);
    await browser.submit('/account/email', { email: 'new_home@example.org' }, { from: '/account' });
    await confirmAddress(browser, linkIn(await mail.next('new_home@example.org')));
    expect((await t.db('users').where({ id }).first())?.email).toBe('new_home@example.org');

    const late = await follow(new Browser(t.app), link);
    expect(late.status).toBe(400);
    expect(late.text).toContain('This link has expired');
    expect(await t.db('account_tokens').where({ user_id: id, purpose: 'reset-password' })).toEqual(
      [],
    );
  });

  it('SECURITY+ 26: a link mailed to an address dies when the address is removed', async () => {
    const { browser, email, id } = await withAddress('no_fixed_abode');
    const link = await resetLink(email);
    await browser.submit('/account/email/remove', {}, { from: '/account' });
    expect((await follow(new Browser(t.app), link)).text).toContain('This link has expired');
    expect(await t.db('account_tokens').where({ user_id: id })).toEqual([]);
  });

  it('holds the new password to the registration rules, with the reason', async () => {
    const { email } = await withAddress('weak_again');
    const browser = new Browser(t.app);
    await follow(browser, await resetLink(email));
    const res = await browser.submit('/password/reset', { password: 'aaaaaaaaaaaaaaaa' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('This password would be too easy to guess.');
    const short = await browser.submit('/password/reset', { password: 'short' });
    expect(short.text).toContain('Use at least 15 characters.');
  });

  it('refuses an address that is not one, with a message', async () => {
    const res = await forgot('not an address');
    expect(res.status).toBe(400);
    expect(res.text).toContain('That does not look like an e-mail address.');
  });

  it('is throttled per address typed and per client, in the rate-limit table', async () => {
    const limited = await createTestApp({
      MAIL_URL: mail.url,
      PUBLIC_URL,
      EMAIL_LINKS_PER_ADDRESS: '2',
      EMAIL_LINKS_PER_IP: '3',
    });
    try {
      const ask = (email: string) => new Browser(limited.app).submit('/password/forgot', { email });
      expect((await ask('flood@example.org')).status).toBe(200);
      expect((await ask('FLOOD@example.org')).status).toBe(200);
      expect((await ask('flood@example.org')).status).toBe(429);
      expect((await ask('other@example.org')).status).toBe(200);
      expect((await ask('third@example.org')).status).toBe(429);
      expect(await limited.db('rate_limits').where('key', 'like', 'mail-%')).not.toEqual([]);
    } finally {
      await limited.close();
    }
  });
});

describe('when the mail server is down or refuses', () => {
  it('SECURITY+ 22: the answer does not change, the failure is logged without address or token, and sending is retried', async () => {
    const { email } = await withAddress('unlucky');
    mail.refuse(true);
    const before = lines.length;
    try {
      const res = await forgot(email);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Check your e-mail');
      const deadline = Date.now() + 5000;
      while (!lines.slice(before).some((line) => line.msg === 'mail not sent: giving up')) {
        if (Date.now() > deadline) throw new Error('no "giving up" line');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      mail.refuse(false);
    }
    const failures = lines.slice(before).filter((line) => line.event === 'mail_failed');
    expect(failures.map((line) => line.attempt)).toEqual([1, 2, 3, 4]);
    expect(failures[0]).toMatchObject({ template: 'reset-password', responseCode: 550 });
    // The address appears as the security log's keyed tag: the failure can be matched with the
    // request that caused it, and no one can find the address by hashing likely ones.
    const asked = lines.slice(before).find((line) => line.event === 'password_reset_requested');
    expect(asked?.address).toMatch(/^[0-9a-f]{16}$/);
    for (const failure of failures) expect(failure.to).toBe(asked?.address);
    const logged = JSON.stringify(lines.slice(before));
    expect(logged).not.toContain(email);
    const token = (await t.db('account_tokens').orderBy('id', 'desc').first())?.token_hash;
    expect(logged).not.toContain(String(token));
    // And the site carries on: the next request is answered as usual.
    expect((await forgot(email)).status).toBe(200);
    await mail.next(email);
  });

  it('nothing crashes when there is no server at all', async () => {
    const down = await createTestApp(
      // The links this file has asked for from 127.0.0.1 are counted in this shared database.
      { MAIL_URL: 'smtp://127.0.0.1:9', PUBLIC_URL, EMAIL_LINKS_PER_IP: '1000' },
      { databaseUrl: t.databaseUrl },
    );
    try {
      const res = await new Browser(down.app).submit('/password/forgot', {
        email: 'unlucky@example.org',
      });
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await new Browser(down.app).get('/')).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('without a mail server', () => {
  it('hides the reset and the e-mail fields, and the reset pages do not exist', async () => {
    const off = await createTestApp({}, { databaseUrl: t.databaseUrl });
    try {
      const browser = new Browser(off.app);
      expect((await browser.get('/login')).text).not.toContain('Forgot your password?');
      expect((await browser.get('/register')).text).not.toContain('E-mail address');
      expect((await browser.get('/password/forgot')).status).toBe(404);
      expect((await browser.get('/password/reset/some-token')).status).toBe(404);
      expect((await browser.get('/email/verify/some-token')).status).toBe(404);
      expect((await browser.get('/dev/outbox')).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('in production without MAIL_URL, the same; and PUBLIC_URL is required', async () => {
    const off = await createTestApp(PRODUCTION_ENV, { databaseUrl: t.databaseUrl });
    try {
      const page = await new Browser(off.app, { https: true }).get('/login');
      expect(page.text).not.toContain('Forgot your password?');
    } finally {
      await off.close();
    }
    const { PUBLIC_URL: _, ...withoutUrl } = PRODUCTION_ENV;
    await expect(
      createTestApp({ ...withoutUrl, MAIL_URL: 'smtp://mail.example:587' }),
    ).rejects.toThrow(/PUBLIC_URL is required in production/);
  });
});

describe('the development outbox', () => {
  it('keeps each message as an .eml file, lists it at /dev/outbox and shows its link', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-'));
    const dev = await createTestApp(
      {
        NODE_ENV: 'development',
        MAIL_OUTBOX_DIR: dir,
        PUBLIC_URL: 'http://localhost:3000',
        EMAIL_LINKS_PER_IP: '1000',
      },
      { databaseUrl: t.databaseUrl },
    );
    try {
      await withAddress('outbox_user');
      const browser = new Browser(dev.app);
      await browser.submit('/password/forgot', { email: 'outbox_user@example.org' });
      const deadline = Date.now() + 5000;
      while (!fs.readdirSync(dir).some((file) => file.endsWith('.eml'))) {
        if (Date.now() > deadline) throw new Error('no .eml in the outbox');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const eml = fs.readdirSync(dir).find((file) => file.endsWith('.eml')) ?? '';
      expect(fs.readFileSync(path.join(dir, eml), 'utf8')).toMatch(/Subject: Reset your password/);
      const list = await browser.get('/dev/outbox');
      expect(list.text).toContain('Reset your password');
      const id = /href="\/dev\/outbox\/([^"]+)"/.exec(list.text)?.[1] ?? '';
      const message = await browser.get(`/dev/outbox/${id}`);
      expect(message.text).toMatch(
        /<a href="http:\/\/localhost:3000\/password\/reset\/[\w-]{43}">/,
      );
    } finally {
      await dev.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not exist in production', async () => {
    const prod = await createTestApp(
      { ...PRODUCTION_ENV, MAIL_URL: mail.url, PUBLIC_URL },
      { databaseUrl: t.databaseUrl },
    );
    try {
      const browser = new Browser(prod.app, { https: true });
      expect((await browser.get('/dev/outbox', { Host: 'site.example' })).status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
