import request from 'supertest';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await register(new Browser(t.app), 'alice');
});
afterAll(() => t.close());

describe('login', () => {
  it('signs in with the right password and redirects to the dashboard with 303', async () => {
    const browser = new Browser(t.app);
    const res = await logIn(browser, 'alice');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/dashboard');
    expect(setCookie(res, 'sid')).toBeDefined();
    const dashboard = await browser.get('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('You are signed in.');
  });

  it('matches the username in any letter case', async () => {
    const res = await logIn(new Browser(t.app), 'ALICE');
    expect(res.status).toBe(303);
  });

  it('SECURITY 16: logs in with the NFD form of an NFC password', async () => {
    await register(new Browser(t.app), 'zoe', 'caf\u00e9 au lait with two sugars');
    const res = await logIn(new Browser(t.app), 'zoe', 'cafe\u0301 au lait with two sugars');
    expect(res.status).toBe(303);
  });

  it('SECURITY 11: gives a wrong password and an unknown user the same status and body', async () => {
    const wrong = await logIn(new Browser(t.app), 'alice', 'not the password at all');
    const unknown = await logIn(new Browser(t.app), 'nobody', 'not the password at all');
    const bodyOf = (res: request.Response) => res.text.replace(/value="[^"]*"/g, '');

    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(wrong.status);
    expect(bodyOf(unknown)).toBe(bodyOf(wrong).replace('alice', 'nobody'));
    expect(wrong.text).toContain('Incorrect username or password.');
    expect(setCookie(wrong, 'sid')).toBeUndefined();
    expect(setCookie(unknown, 'sid')).toBeUndefined();
  });

  it('re-renders with 400 and a message per empty field', async () => {
    const res = await new Browser(t.app).submit('/login', { username: '', password: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Enter your username.');
    expect(res.text).toContain('Enter your password.');
  });

  it('SECURITY 21: returns to a same-site `next` path after login', async () => {
    const form = await request(t.app).get('/login?next=%2Fdashboard%3Ftab%3D2');
    expect(form.text).toContain('name="next" value="/dashboard?tab=2"');

    const res = await new Browser(t.app).submit('/login', {
      username: 'alice',
      password: PASSWORD,
      next: '/dashboard?tab=2',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/dashboard?tab=2');
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '/\t/evil.example/',
    'javascript:alert(1)',
    '%2F%2Fevil.example',
    'dashboard',
    '/..//evil.example/',
    '/.//evil.example/',
    '/a/..//evil.example/x',
  ])('SECURITY 21: lands on /dashboard instead of the unsafe next %j', async (next) => {
    const form = await request(t.app).get(`/login?next=${encodeURIComponent(next)}`);
    expect(form.text).not.toContain('name="next"');

    const res = await new Browser(t.app).submit('/login', {
      username: 'alice',
      password: PASSWORD,
      next,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/dashboard');
  });
});
