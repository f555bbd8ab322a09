import { Browser } from './helpers/browser';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';
import * as passwords from '../src/auth/passwords';

const LIMITS = {
  THROTTLE_WINDOW_MINUTES: '15',
  LOGIN_FAILURES_PER_ACCOUNT: '3',
  LOGIN_FAILURES_PER_IP: '10000',
};

async function failTimes(t: TestApp, username: string, times: number) {
  for (let i = 0; i < times; i++) {
    expect((await logIn(new Browser(t.app), username, 'wrong password, once more')).status).toBe(
      401,
    );
  }
}

describe('login throttling per account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(LIMITS);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('SECURITY 26: past the limit, even the right password gets 429 with Retry-After', async () => {
    await register(new Browser(t.app), 'target');
    await failTimes(t, 'target', 3);

    const res = await logIn(new Browser(t.app), 'target', PASSWORD);
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(res.text).toContain('too many attempts');
  });

  it('SECURITY 26: a throttled login does no bcrypt work', async () => {
    await register(new Browser(t.app), 'nohash');
    await failTimes(t, 'nohash', 2);
    const verify = jest.spyOn(passwords, 'verifyPassword');
    await failTimes(t, 'nohash', 1);
    expect(verify).toHaveBeenCalledTimes(1);
    expect((await logIn(new Browser(t.app), 'nohash', PASSWORD)).status).toBe(429);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('SECURITY 26: counts any letter case of the name as the same account', async () => {
    await register(new Browser(t.app), 'casey');
    await failTimes(t, 'CASEY', 2);
    await failTimes(t, 'Casey', 1);
    expect((await logIn(new Browser(t.app), 'casey', PASSWORD)).status).toBe(429);
  });

  it('SECURITY 11, 26: an unknown account is throttled exactly like a real one', async () => {
    await register(new Browser(t.app), 'realname');
    await failTimes(t, 'realname', 3);
    await failTimes(t, 'madeupname', 3);

    const real = await logIn(new Browser(t.app), 'realname', 'another wrong password');
    const fake = await logIn(new Browser(t.app), 'madeupname', 'another wrong password');
    expect(fake.status).toBe(429);
    expect(real.status).toBe(429);
    expect(fake.text.replace(/value="[^"]*"/g, '')).toBe(real.text.replace(/value="[^"]*"/g, ''));
    expect(
      Math.abs(Number(fake.headers['retry-after']) - Number(real.headers['retry-after'])),
    ).toBeLessThanOrEqual(1);
  });

  it('SECURITY 26: a successful login resets the account’s count', async () => {
    await register(new Browser(t.app), 'recovers');
    await failTimes(t, 'recovers', 2);
    expect((await logIn(new Browser(t.app), 'recovers', PASSWORD)).status).toBe(303);
    await failTimes(t, 'recovers', 2);
    expect((await logIn(new Browser(t.app), 'recovers', PASSWORD)).status).toBe(303);
  });

  it('SECURITY 26: the count is kept in the database, shared by every app instance', async () => {
    await register(new Browser(t.app), 'shared');
    await failTimes(t, 'shared', 3);
    const other = await createTestApp(LIMITS, { databaseUrl: t.databaseUrl });
    try {
      expect((await logIn(new Browser(other.app), 'shared', PASSWORD)).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('SECURITY 26: the account page’s password checks are throttled too', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'sessionthief');
    for (let i = 0; i < 3; i++) {
      const res = await browser.submit(
        '/account/delete',
        { password: 'guess' },
        { from: '/account' },
      );
      expect(res.status).toBe(400);
    }
    const res = await browser.submit(
      '/account/delete',
      { password: PASSWORD },
      { from: '/account' },
    );
    expect(res.status).toBe(429);
    expect(await t.db('users').where({ username: 'sessionthief' })).toHaveLength(1);
  });
});

describe('login throttling per client IP', () => {
  it('SECURITY 26: one IP trying many names is stopped after LOGIN_FAILURES_PER_IP failures', async () => {
    const t = await createTestApp({ ...LIMITS, LOGIN_FAILURES_PER_IP: '4' });
    try {
      for (const name of ['a1', 'a2', 'a3', 'a4']) await failTimes(t, `name_${name}`, 1);
      const res = await logIn(new Browser(t.app), 'name_a5', 'wrong password, once more');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('SECURITY 2, 26: behind a proxy, the IP counted is the client’s from X-Forwarded-For', async () => {
    const t = await createTestApp({ ...LIMITS, LOGIN_FAILURES_PER_IP: '2', TRUST_PROXY: '1' });
    try {
      const from = (ip: string) => ({ headers: { 'X-Forwarded-For': ip } });
      for (const name of ['b1', 'b2']) {
        const res = await new Browser(t.app).submit(
          '/login',
          { username: name, password: 'wrong password' },
          from('203.0.113.7'),
        );
        expect(res.status).toBe(401);
      }
      const blocked = await new Browser(t.app).submit(
        '/login',
        { username: 'b3', password: 'wrong password' },
        from('203.0.113.7'),
      );
      expect(blocked.status).toBe(429);
      const otherClient = await new Browser(t.app).submit(
        '/login',
        { username: 'b3', password: 'wrong password' },
        from('198.51.100.9'),
      );
      expect(otherClient.status).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('registration throttling', () => {
  it('SECURITY 26: registrations are limited per IP', async () => {
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
