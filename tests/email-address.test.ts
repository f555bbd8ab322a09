import { Browser } from './helpers/browser';
import { logLines } from './helpers/log-lines';
import {
  confirmAddress,
  follow,
  linkIn,
  createTestAppWithMail,
  type MailServer,
} from './helpers/mail-server';
import { createTestApp, PASSWORD, register, type TestApp } from './helpers/test-app';

const PUBLIC_URL = 'https://site.example';

let mail: MailServer;
let t: TestApp;
beforeAll(async () => {
  ({ t, mail } = await createTestAppWithMail({ PUBLIC_URL }));
});
afterAll(() => t.close());

const userRow = (username: string) => t.db('users').where({ username }).first();

async function registerWith(username: string, email: string) {
  const browser = new Browser(t.app);
  const res = await browser.submit('/register', { username, password: PASSWORD, email });
  expect(res.status).toBe(303);
  return browser;
}

/** Adds or changes the address from the account page, as its form does. */
const setAddress = (browser: Browser, email: string) =>
  browser.submit('/account/email', { email }, { from: '/account' });

describe('an e-mail address at registration', () => {
  it('is optional, with the reason it is asked for', async () => {
    const form = await new Browser(t.app).get('/register');
    expect(form.text).toContain('E-mail address (optional)');
    expect(form.text).toContain('Only used to reset your password if you forget it.');
    expect(form.text).toMatch(/id="email"[^>]*type="email"[^>]*autocomplete="email"/);
    expect(form.text).not.toMatch(/id="email"[^>]*required/);
    await register(new Browser(t.app), 'no_address');
    expect((await userRow('no_address'))?.pending_email).toBeNull();
  });

  it('waits, unverified, until the link sent to it is followed (signed in or not)', async () => {
    await registerWith('verifier', 'Verifier@Example.ORG ');
    expect(await userRow('verifier')).toMatchObject({
      email: null,
      pending_email: 'Verifier@example.org',
    });
    const message = await mail.next('Verifier@example.org');
    expect(message.subject).toBe('Confirm your e-mail address');
    const link = linkIn(message);
    expect(link).toMatch(new RegExp(`^${PUBLIC_URL}/email/verify/[\\w-]{43}$`));
    expect(message.html).toContain(`<a href="${link}">`);

    const elsewhere = new Browser(t.app);
    const res = await confirmAddress(elsewhere, link);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(await userRow('verifier')).toMatchObject({
      email: 'Verifier@example.org',
      pending_email: null,
    });
    expect((await elsewhere.get('/')).text).toContain('Your e-mail address is confirmed.');
    expect((await confirmAddress(new Browser(t.app), link)).status).toBe(400);
  });

  it('SECURITY+ 29: following the link confirms nothing by itself: a mail scanner’s GET is not a yes', async () => {
    await registerWith('scanned', 'scanned@example.org');
    const link = linkIn(await mail.next('scanned@example.org'));
    const token = link.split('/').at(-1) ?? '';
    const scanner = new Browser(t.app);
    const landed = await follow(scanner, link);
    expect(landed.status).toBe(303);
    expect(landed.headers.location).toBe('/email/verify');
    expect(landed.headers['referrer-policy']).toBe('no-referrer');
    expect(landed.headers['cache-control']).toBe('no-store');
    const page = await scanner.get('/email/verify');
    expect(page.status).toBe(200);
    expect(page.text).toContain('scanned@example.org');
    expect(page.text).toMatch(/<form[^>]*method="post"[^>]*action="\/email\/verify"/);
    expect(page.text).not.toContain(token);
    expect(await userRow('scanned')).toMatchObject({
      email: null,
      pending_email: 'scanned@example.org',
    });
    // The person's own click, with the form's token: now it counts.
    expect((await scanner.submit('/email/verify', {})).status).toBe(303);
    expect((await userRow('scanned'))?.email).toBe('scanned@example.org');
    expect((await scanner.get('/email/verify')).status).toBe(400);
  });

  it('SECURITY+ 29: the confirmation is a POST with a CSRF token, like every other', async () => {
    await registerWith('forged_yes', 'forged_yes@example.org');
    const browser = new Browser(t.app);
    await follow(browser, linkIn(await mail.next('forged_yes@example.org')));
    expect((await browser.post('/email/verify', {})).status).toBe(403);
    expect((await userRow('forged_yes'))?.email).toBeNull();
  });

  it('is refused with a message when it is not an address, and the rest of the form is kept', async () => {
    const res = await new Browser(t.app).submit('/register', {
      username: 'typo_maker',
      password: PASSWORD,
      email: 'name at example dot org',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('That does not look like an e-mail address.');
    expect(res.text).toContain('value="typo_maker"');
    expect(res.text).toContain('value="name at example dot org"');
  });
});

describe('the e-mail address on the account page', () => {
  it('adds an address: the link goes to it, and the page says it is waiting', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'adder');
    const res = await setAddress(browser, 'adder@example.org');
    expect(res.status).toBe(303);
    const page = await browser.get('/account');
    expect(page.text).toContain('Waiting for confirmation: <strong>adder@example.org</strong>');
    expect(page.text).toContain('Send the link again');
    await confirmAddress(browser, linkIn(await mail.next('adder@example.org')));
    expect((await browser.get('/account')).text).toContain(
      'Confirmed: <strong>adder@example.org</strong>',
    );
  });

  it('sends the link again on request, and only the newest link works', async () => {
    const browser = await registerWith('resender', 'resender@example.org');
    const first = linkIn(await mail.next('resender@example.org'));
    await browser.submit('/account/email/resend', {}, { from: '/account' });
    const second = linkIn(await mail.next('resender@example.org'));
    expect((await confirmAddress(new Browser(t.app), first)).status).toBe(400);
    expect((await confirmAddress(new Browser(t.app), second)).status).toBe(303);
  });

  it('changing a verified address tells the old address, and the new one counts once verified', async () => {
    const browser = await registerWith('mover', 'old@example.org');
    await confirmAddress(browser, linkIn(await mail.next('old@example.org')));
    await setAddress(browser, 'new@example.org');
    const notice = await mail.next('old@example.org');
    expect(notice.subject).toBe('The e-mail address on your account was changed');
    expect(notice.text).toContain('asked to change its e-mail address');
    expect(notice.text).not.toContain('new@example.org');
    // Until the new address is verified, the old one is still the one on the account.
    expect(await userRow('mover')).toMatchObject({
      email: 'old@example.org',
      pending_email: 'new@example.org',
    });
    await confirmAddress(browser, linkIn(await mail.next('new@example.org')));
    expect(await userRow('mover')).toMatchObject({ email: 'new@example.org', pending_email: null });
  });

  it('removing a verified address tells that address', async () => {
    const browser = await registerWith('remover', 'gone@example.org');
    await confirmAddress(browser, linkIn(await mail.next('gone@example.org')));
    const res = await browser.submit('/account/email/remove', {}, { from: '/account' });
    expect(res.status).toBe(303);
    expect(await userRow('remover')).toMatchObject({ email: null, pending_email: null });
    const notice = await mail.next('gone@example.org');
    expect(notice.text).toContain('removed this e-mail address');
  });

  it('is unique among verified addresses: a second account cannot verify one already taken', async () => {
    const first = await registerWith('first_owner', 'shared@example.org');
    const second = await registerWith('second_owner', 'shared@example.org');
    const firstLink = linkIn(await mail.next('shared@example.org'));
    const secondLink = linkIn(await mail.next('shared@example.org'));
    await confirmAddress(first, firstLink);
    const res = await confirmAddress(second, secondLink);
    expect(res.status).toBe(303);
    expect((await second.get('/account')).text).toContain(
      'That e-mail address is already confirmed on another account.',
    );
    expect((await userRow('second_owner'))?.email).toBeNull();
    expect((await userRow('first_owner'))?.email).toBe('shared@example.org');
  });

  it('refuses a bad address with the message beside the field', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'bad_address');
    const res = await setAddress(browser, 'not-an-address');
    expect(res.status).toBe(400);
    expect(res.text).toContain('That does not look like an e-mail address.');
    expect(res.text).toMatch(/id="email"[^>]*aria-invalid="true"/);
  });

  it('is behind the recent-authentication guard', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'stale_address');
    const token = await browser.csrfToken('/account');
    const row = await t
      .db('sessions')
      .where({ user_id: (await userRow('stale_address')).id })
      .first();
    const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
    sess.loginAt = Date.now() - 11 * 60_000;
    await t
      .db('sessions')
      .where({ sid: row.sid })
      .update({ sess: JSON.stringify(sess) });
    const res = await browser.post('/account/email', { email: 'late@example.org', _csrf: token });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/confirm-password?next=%2Faccount');
    expect((await userRow('stale_address'))?.pending_email).toBeNull();
  });
});

describe('mail to one address, from registrations', () => {
  it('SECURITY+ 28: twenty registrations naming one address send it no more than the mail limit allows', async () => {
    const { lines, logStream } = logLines();
    const limited = await createTestApp(
      {
        MAIL_URL: mail.url,
        PUBLIC_URL,
        EMAIL_LINKS_PER_ADDRESS: '2',
        // Every test client is 127.0.0.1: the limit per client address is not what is tested.
        EMAIL_LINKS_PER_IP: '1000',
        LOG_LEVEL: 'info',
      },
      { databaseUrl: t.databaseUrl, logStream },
    );
    try {
      const victim = 'victim.of.signups@example.org';
      for (let i = 0; i < 20; i++) {
        const res = await new Browser(limited.app).submit('/register', {
          username: `signup_${i}`,
          password: PASSWORD,
          email: victim,
        });
        // Registration itself goes on: only the mail is skipped.
        expect(res.status).toBe(303);
      }
      await mail.next(victim);
      await mail.next(victim);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(mail.messages.filter((message) => message.text?.includes('signup_'))).toHaveLength(2);
      expect(lines.filter((line) => line.event === 'email_link_refused')).toHaveLength(18);
      // The address still waits on each account: its owner can ask for the link later.
      expect((await userRow('signup_19'))?.pending_email).toBe(victim);
    } finally {
      await limited.close();
    }
  }, 30_000);
});
