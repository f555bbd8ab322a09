import request from 'supertest';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import {
  createTestApp,
  PASSWORD,
  PRODUCTION_ENV,
  register,
  sessionRows,
  type TestApp,
} from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await register(new Browser(t.app), 'alice');
});
afterAll(() => t.close());

const credentials = { username: 'alice', password: PASSWORD };

describe('CSRF protection', () => {
  it.each(['/login', '/register', '/logout'])(
    'SECURITY 20: a POST to %s without a token gets the 403 "reload the form" page',
    async (path) => {
      const res = await new Browser(t.app).post(path, { username: 'csrfless', password: PASSWORD });
      expect(res.status).toBe(403);
      expect(res.text).toContain('This form has expired');
      expect(res.text).toContain('Reload the page and submit the form again.');
      expect(await t.db('users').where({ username: 'csrfless' })).toHaveLength(0);
    },
  );

  it('SECURITY 20: logout without a token logs nobody out', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'stays');
    const res = await browser.post('/logout', {});
    expect(res.status).toBe(403);
    expect((await browser.get('/dashboard')).status).toBe(200);
  });

  it('SECURITY 20: a token that does not match its cookie is refused', async () => {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const res = await browser.post('/login', { ...credentials, _csrf: `${token}x` });
    expect(res.status).toBe(403);
  });

  it('SECURITY 20: a CSRF token from another session is refused', async () => {
    const victim = new Browser(t.app);
    await register(victim, 'victim');
    const attacker = new Browser(t.app);
    await register(attacker, 'attacker');
    // The attacker's own token and cookie, replayed inside the victim's session.
    const token = await attacker.csrfToken('/');
    victim.setCookie('csrf', String(attacker.cookie('csrf')));

    const res = await victim.post('/logout', { _csrf: token });
    expect(res.status).toBe(403);
    expect((await victim.get('/dashboard')).status).toBe(200);
  });

  it('SECURITY 20: the token rotates at login; the anonymous one no longer works', async () => {
    const browser = new Browser(t.app);
    const before = await browser.csrfToken('/login');
    const cookieBefore = String(browser.cookie('csrf'));
    expect((await browser.post('/login', { ...credentials, _csrf: before })).status).toBe(303);

    const after = await browser.csrfToken('/');
    expect(after).not.toBe(before);
    browser.setCookie('csrf', cookieBefore);
    expect((await browser.post('/logout', { _csrf: before })).status).toBe(403);
  });

  it('SECURITY 20: a form posted with Sec-Fetch-Site: cross-site is refused despite a valid token', async () => {
    const res = await new Browser(t.app).submit('/login', credentials, {
      headers: { 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(setCookie(res, 'sid')).toBeUndefined();
  });

  it('SECURITY 20: a form posted with a foreign Origin is refused despite a valid token', async () => {
    const res = await new Browser(t.app).submit('/login', credentials, {
      headers: { Origin: 'https://evil.example', Host: 'localhost:3000' },
    });
    expect(res.status).toBe(403);
  });

  it('SECURITY 20: a form posted from the site’s own origin is accepted', async () => {
    const res = await new Browser(t.app).submit('/login', credentials, {
      headers: {
        Origin: 'http://localhost:3000',
        Host: 'localhost:3000',
        'Sec-Fetch-Site': 'same-origin',
      },
    });
    expect(res.status).toBe(303);
  });

  it('SECURITY 10: the anonymous form’s token lives in a cookie, with no session row or cookie', async () => {
    const before = (await sessionRows(t.db)).length;
    const res = await request(t.app).get('/login');
    expect(setCookie(res, 'csrf')?.attributes).toMatchObject({
      httponly: true,
      samesite: 'Strict',
    });
    expect(setCookie(res, 'sid')).toBeUndefined();
    expect((await sessionRows(t.db)).length).toBe(before);
  });

  it('SECURITY 20: the production CSRF cookie is __Host- and Secure', async () => {
    const prod = await createTestApp(PRODUCTION_ENV);
    try {
      const res = await new Browser(prod.app, { https: true }).get('/login');
      expect(setCookie(res, '__Host-csrf')?.attributes).toMatchObject({ secure: true, path: '/' });
    } finally {
      await prod.close();
    }
  });

  it('SECURITY+ 5: behind a proxy, a forged X-Forwarded-Host does not make a foreign Origin look like ours', async () => {
    const prod = await createTestApp(PRODUCTION_ENV);
    try {
      const browser = new Browser(prod.app, { https: true });
      await browser.submit('/register', { username: 'forwarded', password: PASSWORD });
      const res = await browser.submit(
        '/logout',
        {},
        {
          from: '/',
          headers: {
            Host: '127.0.0.1',
            Origin: 'https://evil.example',
            'X-Forwarded-Host': 'evil.example',
          },
        },
      );
      expect(res.status).toBe(403);
    } finally {
      await prod.close();
    }
  });
});
