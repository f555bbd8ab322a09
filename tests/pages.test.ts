import fs from 'node:fs';
import request from 'supertest';
import { Browser } from './helpers/browser';
import { createTestApp, PRODUCTION_ENV, register, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('public pages', () => {
  it.each([
    ['/', 'Home'],
    ['/about', 'About'],
    ['/contact', 'Contact'],
    ['/login', 'Log in'],
    ['/register', 'Register'],
  ])('%s renders with its title and the anonymous navigation', async (path, title) => {
    const res = await request(t.app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(`<title>${title} · Session Starter</title>`);
    expect(res.text).toContain('href="/login"');
    expect(res.text).not.toContain('action="/logout"');
  });

  it('offers the dashboard and a log-out button once signed in', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'navigator');
    const res = await browser.get('/');
    expect(res.text).toContain('href="/dashboard"');
    expect(res.text).toMatch(/<form[^>]*method="post"[^>]*action="\/logout"/);
  });

  it('serves the stylesheet without touching the session', async () => {
    const res = await request(t.app).get('/assets/styles.css');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/css/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a page request never looks for a file of its name on disk', async () => {
    const stat = jest.spyOn(fs, 'stat');
    try {
      expect((await request(t.app).get('/about')).status).toBe(200);
      expect((await request(t.app).get('/assets/favicon.svg')).status).toBe(200);
      const looked = stat.mock.calls.map(([file]) => String(file));
      expect(looked.filter((file) => file.endsWith('favicon.svg'))).toHaveLength(1);
      expect(looked.filter((file) => file.includes('about'))).toEqual([]);
    } finally {
      stat.mockRestore();
    }
  });
});

describe('security headers', () => {
  it.each(['/', '/no-such-page', '/assets/styles.css'])('SECURITY 22: are on %s', async (path) => {
    const res = await request(t.app).get(path);
    const csp = res.headers['content-security-policy'];
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('SECURITY 22: has no inline script or style in any page', async () => {
    for (const path of ['/', '/login', '/register', '/no-such-page']) {
      const { text } = await request(t.app).get(path);
      expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(text).not.toMatch(/<style|\sstyle=/);
    }
  });
});

describe('errors', () => {
  it('answers an unknown page with a 404 page', async () => {
    const res = await request(t.app).get('/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Page not found');
  });

  it('answers a JSON client’s unknown path with JSON', async () => {
    const res = await request(t.app).get('/api/nothing').set('Accept', 'application/json');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'There is no page at this address.' });
  });

  it('SECURITY 27: refuses a body over 20 kB with 413', async () => {
    const res = await request(t.app)
      .post('/login')
      .type('form')
      .send({ username: 'x', password: 'y'.repeat(25_000) });
    expect(res.status).toBe(413);
    expect(res.text).toContain('That request was too large.');
  });

  it('SECURITY 27: refuses a body with too many fields with 413', async () => {
    const body = Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&');
    const res = await request(t.app).post('/login').type('form').send(body);
    expect(res.status).toBe(413);
  });

  it('SECURITY 24: refuses a body it does not read (JSON to a form) with 403, not 500', async () => {
    const res = await request(t.app)
      .post('/login')
      .set('Content-Type', 'application/json')
      .send('{"username": ["a"]}');
    expect(res.status).toBe(403);
    expect(res.text).toContain('Reload the page');
  });
});

describe('an unexpected error', () => {
  // A table the passkeys page reads, and nothing before its route: the users table would fail
  // the session's own read (which joins it), a 503 like any session-store failure.
  async function breakDatabase(app: TestApp, browser: Browser) {
    await register(browser, 'unlucky');
    await app.db.schema.renameTable('passkeys', 'passkeys_gone');
  }

  it('SECURITY 22, 24: shows a 500 page with no stack trace, path or SQL in production', async () => {
    const prod = await createTestApp(PRODUCTION_ENV);
    try {
      const browser = new Browser(prod.app, { https: true });
      await breakDatabase(prod, browser);

      const res = await browser.get('/account/passkeys');
      expect(res.status).toBe(500);
      expect(res.text).toContain('Something went wrong');
      expect(res.text).not.toMatch(/passkeys|select|sqlite|at .*\.ts|\/work\/|node_modules/i);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    } finally {
      await prod.close();
    }
  });

  it('shows the stack to the developer in development', async () => {
    const dev = await createTestApp();
    try {
      const browser = new Browser(dev.app);
      await breakDatabase(dev, browser);
      const res = await browser.get('/account/passkeys');
      expect(res.status).toBe(500);
      expect(res.text).toMatch(/passkeys/);
      expect(res.text).toMatch(/\n\s+at /);
    } finally {
      await dev.close();
    }
  });
});
