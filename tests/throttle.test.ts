import { Browser } from './helpers/browser';
import { sessionIdOf } from './helpers/cookies';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';
import * as passwords from '../src/passwords/passwords';

/** Requests as a proxy forwards them: TRUST_PROXY=1 and the client's address in X-Forwarded-For. */
const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });

const ATTACKER = '203.0.113.7';
const OWNER = '198.51.100.9';

function loginFrom(t: TestApp, address: string, username: string, password: string) {
  return new Browser(t.app).submit('/login', { username, password }, from(address));
}

async function failTimes(t: TestApp, address: string, username: string, times: number) {
  for (let i = 0; i < times; i++) {
    const res = await loginFrom(t, address, username, 'wrong password, once more');
    expect(res.status).toBe(401);
  }
}

/** One account whose owner logs in from OWNER while ATTACKER guesses. */
async function registered(t: TestApp, username: string) {
  await new Browser(t.app).submit('/register', { username, password: PASSWORD }, from(OWNER));
}

const LIMITS = {
  TRUST_PROXY: '1',
  THROTTLE_WINDOW_MINUTES: '15',
  LOGIN_FAILURES_PER_PAIR: '3',
  LOGIN_FAILURES_PER_ACCOUNT: '8',
  LOGIN_FAILURES_PER_IP: '10000',
};

describe('login throttling per account and address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(LIMITS);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('SECURITY 26: past the limit, that address gets 429 with Retry-After, even with the right password', async () => {
    await registered(t, 'target');
    await failTimes(t, ATTACKER, 'target', 3);

    const res = await loginFrom(t, ATTACKER, 'target', PASSWORD);
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(res.text).toContain('too many attempts');
  });

  it('SECURITY 26: a throttled login does no bcrypt work', async () => {
    await registered(t, 'nohash');
    await failTimes(t, ATTACKER, 'nohash', 3);
    const verify = jest.spyOn(passwords, 'verifyPassword');
    expect((await loginFrom(t, ATTACKER, 'nohash', PASSWORD)).status).toBe(429);
    expect(verify).not.toHaveBeenCalled();
  });

  it('SECURITY+ 1: the owner, from an address that has not been failing, gets in meanwhile', async () => {
    await registered(t, 'hammered');
    await failTimes(t, ATTACKER, 'hammered', 3);
    expect((await loginFrom(t, ATTACKER, 'hammered', 'yet another guess')).status).toBe(429);

    expect((await loginFrom(t, OWNER, 'hammered', PASSWORD)).status).toBe(303);
  });

  it('SECURITY+ 1: the owner’s login gives the attacker’s address no fresh allowance', async () => {
    await registered(t, 'resetless');
    await failTimes(t, ATTACKER, 'resetless', 3);
    expect((await loginFrom(t, OWNER, 'resetless', PASSWORD)).status).toBe(303);
    expect((await loginFrom(t, ATTACKER, 'resetless', 'a guess after the reset')).status).toBe(429);
  });

  it('SECURITY+ 1: a much higher per-account ceiling stops guesses spread over many addresses', async () => {
    await registered(t, 'botnet_target');
    // Eight failures from four addresses, none of them past its own limit of three.
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) {
      await failTimes(t, address, 'botnet_target', 2);
    }
    const res = await loginFrom(t, '192.0.2.5', 'botnet_target', 'the ninth guess');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('SECURITY+ 1: the signed-in owner changes the password while the account is under attack', async () => {
    const owner = new Browser(t.app);
    await owner.submit('/register', { username: 'besieged', password: PASSWORD }, from(OWNER));
    for (const address of ['192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14']) {
      await failTimes(t, address, 'besieged', 2);
    }
    expect((await loginFrom(t, '192.0.2.15', 'besieged', PASSWORD)).status).toBe(429);

    const res = await owner.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'a brand new and sturdy passphrase' },
      { from: '/account', ...from(OWNER) },
    );
    expect(res.status).toBe(303);
  });

  it('SECURITY 26: counts any letter case of the name as the same account', async () => {
    await registered(t, 'casey');
    await failTimes(t, ATTACKER, 'CASEY', 2);
    await failTimes(t, ATTACKER, 'Casey', 1);
    expect((await loginFrom(t, ATTACKER, 'casey', PASSWORD)).status).toBe(429);
  });

  it('SECURITY 11, 26: an unknown account is throttled exactly like a real one', async () => {
    await registered(t, 'realname');
    await failTimes(t, ATTACKER, 'realname', 3);
    await failTimes(t, ATTACKER, 'madeupname', 3);

    const real = await loginFrom(t, ATTACKER, 'realname', 'another wrong password');
    const fake = await loginFrom(t, ATTACKER, 'madeupname', 'another wrong password');
    expect(fake.status).toBe(429);
    expect(real.status).toBe(429);
    expect(fake.text.replace(/value="[^"]*"/g, '')).toBe(real.text.replace(/value="[^"]*"/g, ''));
    expect(
      Math.abs(Number(fake.headers['retry-after']) - Number(real.headers['retry-after'])),
    ).toBeLessThanOrEqual(1);
  });

  it('SECURITY 26: a successful login from an address clears that address’s count', async () => {
    await registered(t, 'recovers');
    await failTimes(t, OWNER, 'recovers', 2);
    expect((await loginFrom(t, OWNER, 'recovers', PASSWORD)).status).toBe(303);
    await failTimes(t, OWNER, 'recovers', 2);
    expect((await loginFrom(t, OWNER, 'recovers', PASSWORD)).status).toBe(303);
  });

  it('SECURITY 26: the count is kept in the database, shared by every app instance', async () => {
    await registered(t, 'shared');
    await failTimes(t, ATTACKER, 'shared', 3);
    const other = await createTestApp(LIMITS, { databaseUrl: t.databaseUrl });
    try {
      expect((await loginFrom(other, ATTACKER, 'shared', PASSWORD)).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('SECURITY+ 6: guesses sent at the same instant cannot overshoot the limit', async () => {
    await registered(t, 'concurrent');
    const verify = jest.spyOn(passwords, 'verifyPassword');
    const browsers = Array.from({ length: 17 }, () => new Browser(t.app));
    const tokens = await Promise.all(browsers.map((browser) => browser.csrfToken('/login')));
    const answers = await Promise.all(
      browsers.map((browser, i) =>
        browser.post(
          '/login',
          {
            username: 'concurrent',
            password: i === 16 ? PASSWORD : `guess number ${i}`,
            _csrf: tokens[i] ?? '',
          },
          from(ATTACKER).headers,
        ),
      ),
    );
    expect(verify.mock.calls.length).toBeLessThanOrEqual(3);
    expect(answers.filter((res) => res.status === 429).length).toBeGreaterThanOrEqual(14);
  });
});

describe('password checks once signed in', () => {
  it('SECURITY+ 32: a session that fails the confirmation PASSWORD_CONFIRM_FAILURES times is signed out; the owner’s are not', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CONFIRM_FAILURES: '3' });
    try {
      const owner = new Browser(t.app);
      await register(owner, 'sessionthief');
      // A second session of the account, standing for a stolen cookie.
      const thief = new Browser(t.app);
      expect((await logIn(thief, 'sessionthief')).status).toBe(303);
      const thiefSid = sessionIdOf(String(thief.cookie('sid')));
      const guess = () =>
        thief.submit(
          '/account/password',
          { current_password: 'guess', new_password: 'x'.repeat(20) },
          { from: '/account' },
        );
      expect((await guess()).status).toBe(400);
      expect((await guess()).status).toBe(400);
      const third = await guess();
      expect(third.status).toBe(401);
      expect(third.text).toContain('signed out');
      expect(await t.db('sessions').where({ sid: thiefSid })).toEqual([]);
      expect((await thief.get('/dashboard')).status).toBe(302);

      // The owner's own session was never counted against: it confirms, and changes the password.
      const changed = await owner.submit(
        '/account/password',
        { current_password: PASSWORD, new_password: 'a brand new and sturdy passphrase' },
        { from: '/account' },
      );
      expect(changed.status).toBe(303);
      // The login throttle is a different count: the owner can still log in elsewhere.
      const elsewhere = await logIn(
        new Browser(t.app),
        'sessionthief',
        'a brand new and sturdy passphrase',
      );
      expect(elsewhere.status).toBe(303);
    } finally {
      await t.close();
    }
  });
});

describe('login throttling per client address', () => {
  it('SECURITY 26: one address trying many names is stopped after LOGIN_FAILURES_PER_IP failures', async () => {
    const t = await createTestApp({ ...LIMITS, LOGIN_FAILURES_PER_IP: '4' });
    try {
      for (const name of ['a1', 'a2', 'a3', 'a4']) await failTimes(t, ATTACKER, `name_${name}`, 1);
      const res = await loginFrom(t, ATTACKER, 'name_a5', 'wrong password, once more');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBeDefined();
      expect((await loginFrom(t, OWNER, 'name_a5', 'wrong password')).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 5: an IPv6 client is counted by its /64, where one host has all its addresses', async () => {
    const t = await createTestApp({ ...LIMITS, LOGIN_FAILURES_PER_IP: '2' });
    try {
      await failTimes(t, '2001:db8:1:2::1', 'v6_one', 1);
      await failTimes(t, '2001:db8:1:2:ffff:0:0:9', 'v6_two', 1);
      expect((await loginFrom(t, '2001:db8:1:2::abcd', 'v6_three', 'guess')).status).toBe(429);
      expect((await loginFrom(t, '2001:db8:1:3::1', 'v6_three', 'guess')).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 5: an IPv4-mapped IPv6 address counts as the IPv4 address', async () => {
    const t = await createTestApp({ ...LIMITS, LOGIN_FAILURES_PER_IP: '2' });
    try {
      await failTimes(t, '192.0.2.77', 'mapped_one', 1);
      await failTimes(t, '::ffff:192.0.2.77', 'mapped_two', 1);
      expect((await loginFrom(t, '::ffff:c000:024d', 'mapped_three', 'guess')).status).toBe(429);
    } finally {
      await t.close();
    }
  });
});

describe('the budget of password checks', () => {
  it('SECURITY+ 2: successful logins count too: one address gets 429 past its budget', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CHECKS_PER_IP: '4' });
    try {
      await registered(t, 'budgeted');
      for (let i = 0; i < 4; i++) {
        expect((await loginFrom(t, ATTACKER, 'budgeted', PASSWORD)).status).toBe(303);
      }
      expect((await loginFrom(t, ATTACKER, 'budgeted', PASSWORD)).status).toBe(429);
      expect((await loginFrom(t, OWNER, 'budgeted', PASSWORD)).status).toBe(303);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 2: one account’s correct logins from many addresses are limited too', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CHECKS_PER_ACCOUNT: '3' });
    try {
      await registered(t, 'popular');
      for (const address of ['192.0.2.20', '192.0.2.21', '192.0.2.22']) {
        expect((await loginFrom(t, address, 'popular', PASSWORD)).status).toBe(303);
      }
      expect((await loginFrom(t, '192.0.2.23', 'popular', PASSWORD)).status).toBe(429);
      // Another account is not affected.
      await registered(t, 'quiet');
      expect((await loginFrom(t, '192.0.2.24', 'quiet', PASSWORD)).status).toBe(303);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 2: the account page’s right passwords spend the account’s budget', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CHECKS_PER_ACCOUNT: '2' });
    try {
      const browser = new Browser(t.app);
      await browser.submit('/register', { username: 'spender', password: PASSWORD }, from(OWNER));
      expect((await loginFrom(t, OWNER, 'spender', PASSWORD)).status).toBe(303);
      const change = (current: string, next: string) =>
        browser.submit(
          '/account/password',
          { current_password: current, new_password: next },
          { from: '/account', ...from(OWNER) },
        );
      expect((await change(PASSWORD, 'a second sturdy passphrase here')).status).toBe(303);
      expect((await change('a second sturdy passphrase here', PASSWORD)).status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 2: the account page’s wrong passwords spend the address’s budget', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CHECKS_PER_IP: '3' });
    try {
      const browser = new Browser(t.app);
      // Registered from elsewhere: its strength estimate is a password check of that address.
      const elsewhere = from('198.51.100.99');
      await browser.submit('/register', { username: 'guesser', password: PASSWORD }, elsewhere);
      for (let i = 0; i < 3; i++) {
        const res = await browser.submit(
          '/account/delete',
          { password: 'not it' },
          { from: '/account', ...from(OWNER) },
        );
        expect(res.status).toBe(400);
      }
      const res = await browser.submit(
        '/account/delete',
        { password: PASSWORD },
        { from: '/account', ...from(OWNER) },
      );
      expect(res.status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 2: one address flooding correct logins does not keep a second address out', async () => {
    // Real bcrypt cost, so that the checks queue up as in a real flood.
    const t = await createTestApp({ ...LIMITS, BCRYPT_COST: '10' });
    try {
      await registered(t, 'flooder');
      await registered(t, 'bystander');
      let flooding = true;
      const statuses: number[] = [];
      const flood = async () => {
        while (flooding) statuses.push((await loginFrom(t, ATTACKER, 'flooder', PASSWORD)).status);
      };
      const floods = Array.from({ length: 60 }, flood);
      // Sixty clients, each sending its next login the moment the last is answered: enough to
      // keep a shared queue full (with 24, the bystander sometimes slipped in even before the
      // fair queue). Let the flood fill the queue first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const bystander = await loginFrom(t, OWNER, 'bystander', PASSWORD);
      flooding = false;
      await Promise.all(floods);

      expect(bystander.status).toBe(303);
      expect(statuses).not.toContain(500);
      expect(statuses.filter((status) => status === 429 || status === 503).length).toBeGreaterThan(
        0,
      );
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('registration throttling', () => {
  it('SECURITY 26: registrations are limited per address', async () => {
    const t = await createTestApp({ REGISTRATIONS_PER_IP: '2' });
    try {
      await register(new Browser(t.app), 'first_one');
      await register(new Browser(t.app), 'second_one');
      const res = await new Browser(t.app).submit('/register', {
        username: 'third_one',
        password: PASSWORD,
      });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBeDefined();
      expect(await t.db('users').where({ username: 'third_one' })).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

/** A password zxcvbn takes longest over: 64 random digits (about 90 ms of a password thread). */
const slowPassword = () =>
  Array.from({ length: 64 }, () => Math.floor(Math.random() * 10)).join('');

describe('strength estimates of new passwords', () => {
  afterEach(() => jest.restoreAllMocks());

  it('SECURITY+ 23: one address registering 64-digit passwords in parallel leaves other people’s logins answered', async () => {
    // Real bcrypt cost, as in a real flood; registration and budgets lifted, as in the
    // auditor's run, so the password threads' fair shares are what is tested.
    const t = await createTestApp({ ...LIMITS, BCRYPT_COST: '10' });
    try {
      const people = ['198.51.100.21', '198.51.100.22', '198.51.100.23', '198.51.100.24'];
      for (const [i, address] of people.entries()) {
        await new Browser(t.app).submit(
          '/register',
          { username: `bystander_${i}`, password: PASSWORD },
          from(address),
        );
      }
      let flooding = true;
      const attacker: number[] = [];
      let attempt = 0;
      const flood = async () => {
        while (flooding) {
          const res = await new Browser(t.app).submit(
            '/register',
            { username: `flood_${attempt++}`, password: slowPassword() },
            from(ATTACKER),
          );
          attacker.push(res.status);
        }
      };
      const floods = Array.from({ length: 40 }, flood);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const logins = await Promise.all(
        people.map(async (address, i) => {
          const statuses: number[] = [];
          for (let n = 0; n < 3; n++) {
            statuses.push((await loginFrom(t, address, `bystander_${i}`, PASSWORD)).status);
          }
          return statuses;
        }),
      );
      flooding = false;
      await Promise.all(floods);

      expect(logins.flat()).toEqual(Array(people.length * 3).fill(303));
      expect(attacker).not.toContain(500);
      expect(attacker).not.toContain(503);
      expect(attacker).toContain(429);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('SECURITY+ 23: the estimate runs for the request’s address, in its fair share', async () => {
    const t = await createTestApp(LIMITS);
    try {
      const estimate = jest.spyOn(passwords, 'estimatePasswordStrength');
      await new Browser(t.app).submit(
        '/register',
        { username: 'owned_estimate', password: PASSWORD },
        from(OWNER),
      );
      expect(estimate).toHaveBeenCalledTimes(1);
      expect(estimate.mock.calls[0]?.[2]).toEqual({ address: OWNER });
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 23: no estimate when another field of the form failed', async () => {
    const t = await createTestApp(LIMITS);
    try {
      const estimate = jest.spyOn(passwords, 'estimatePasswordStrength');
      const res = await new Browser(t.app).submit(
        '/register',
        { username: 'x', password: slowPassword() },
        from(OWNER),
      );
      expect(res.status).toBe(400);
      expect(res.text).toContain('Use 3 to 32 characters.');
      expect(estimate).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 23: past the registration limit, no estimate and no hash is made', async () => {
    const t = await createTestApp({ ...LIMITS, REGISTRATIONS_PER_IP: '1' });
    try {
      await new Browser(t.app).submit(
        '/register',
        { username: 'first_register', password: PASSWORD },
        from(ATTACKER),
      );
      const estimate = jest.spyOn(passwords, 'estimatePasswordStrength');
      const hash = jest.spyOn(passwords, 'hashPassword');
      const res = await new Browser(t.app).submit(
        '/register',
        { username: 'second_register', password: slowPassword() },
        from(ATTACKER),
      );
      expect(res.status).toBe(429);
      expect(estimate).not.toHaveBeenCalled();
      expect(hash).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });

  it('SECURITY+ 23: every estimate spends the address’s budget of password checks, before it runs', async () => {
    const t = await createTestApp({ ...LIMITS, PASSWORD_CHECKS_PER_IP: '2' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await new Browser(t.app).submit(
          '/register',
          { username: `budget_${i}`, password: 'aaaaaaaaaaaaaaaaaaaa' },
          from(ATTACKER),
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([400, 400, 429]);
    } finally {
      await t.close();
    }
  });
});

describe('what the throttle keeps', () => {
  it('SECURITY+ 33: no typed name, e-mail address or session id in the rate_limits table, only keyed tags', async () => {
    const t = await createTestApp({
      ...LIMITS,
      MAIL_URL: 'smtp://127.0.0.1:9',
      PUBLIC_URL: 'http://127.0.0.1',
    });
    try {
      // A password typed into the name field by mistake, as happens.
      const typed = 'Correct Horse Battery';
      await loginFrom(t, OWNER, typed, 'and the password again');
      await new Browser(t.app).submit('/password/forgot', { email: 'Private.Person@example.org' });
      const browser = new Browser(t.app);
      await register(browser, 'tagged_user');
      await browser.submit('/account/delete', { password: 'not it' }, { from: '/account' });
      const sid = sessionIdOf(String(browser.cookie('sid')));

      const keys = (await t.db('rate_limits').pluck('key')).join('\n');
      expect(keys).toContain('login-pair:');
      expect(keys).toContain('confirm-session:');
      for (const secret of [typed, typed.toLowerCase(), 'private.person', 'tagged_user', sid]) {
        expect(keys.toLowerCase()).not.toContain(secret.toLowerCase());
      }
    } finally {
      await t.close();
    }
  });
});
