import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { hashPassword } from '../src/passwords/passwords';
import { createDatabase } from '../src/db';
import { Browser } from './helpers/browser';
import { startServer } from './helpers/server-process';
import { createTestApp, createTestDatabaseUrl, PASSWORD, type TestApp } from './helpers/test-app';
import { countRows } from './helpers/test-database';

describe('health probes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('/healthz and /readyz answer without a session, a cookie or a history entry', async () => {
    const browser = new Browser(t.app);
    for (const path of ['/healthz', '/readyz']) {
      const res = await browser.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect((await browser.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await browser.get('/readyz')).body).toEqual({ status: 'ready' });
    expect(await countRows(t.db, 'sessions')).toBe(0);
  });

  it('/readyz says 503 while the database cannot serve sessions; /healthz stays 200', async () => {
    await t.db.schema.renameTable('sessions', 'sessions_away');
    try {
      const ready = await new Browser(t.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'not ready' });
      expect((await new Browser(t.app).get('/healthz')).status).toBe(200);
    } finally {
      await t.db.schema.renameTable('sessions_away', 'sessions');
    }
    expect((await new Browser(t.app).get('/readyz')).status).toBe(200);
  });
});

/** One keep-alive connection driven by hand, to see exactly when the server closes it. */
async function keepAliveConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let closed = false;
  socket.on('data', (chunk) => (received += String(chunk)));
  socket.on('close', () => (closed = true));
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  return {
    isClosed: async () => (await until(() => closed), closed),
    /** Sends GET /healthz and resolves with the raw response ('' if the connection is gone). */
    async health() {
      received = '';
      socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      await until(() => closed || received.includes('{"status":"ok"}'));
      return received;
    },
  };
}

describe('the server process', () => {
  it('finishes a request in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    const databaseUrl = await createTestDatabaseUrl();
    const db = createDatabase({ databaseUrl });
    // A costly hash makes the login slow enough to be in flight when the signal arrives.
    await db('users').insert({
      username: 'slowpoke',
      password_hash: await hashPassword(PASSWORD, 13),
    });
    await db.destroy();

    const server = await startServer({ DATABASE_URL: databaseUrl, BCRYPT_COST: '13' });
    try {
      const form = await fetch(`${server.url}/login`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
      const csrfCookie = String(form.headers.get('set-cookie')).split(';')[0] ?? '';
      const login = fetch(`${server.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: csrfCookie },
        body: new URLSearchParams({ username: 'slowpoke', password: PASSWORD, _csrf: token }),
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      server.child.kill('SIGTERM');

      const answered = await login.catch((error: unknown) => {
        throw new Error(`${String(error)}\n${server.output()}`);
      });
      expect(answered.status).toBe(303);
      expect(await server.exited).toBe(0);
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
      expect(server.output()).toContain('shut down cleanly');
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 30_000);

  it('behind a proxy, SIGTERM leaves idle keep-alive connections to the proxy', async () => {
    // A proxy may be writing a request into its pooled connection as the signal lands:
    // cutting that connection would turn the request into a 502 (a POST is never retried).
    const server = await startServer({
      DATABASE_URL: await createTestDatabaseUrl(),
      TRUST_PROXY: '1',
    });
    try {
      const pooled = await keepAliveConnection(server.url);
      expect(await pooled.health()).toMatch(/^HTTP\/1\.1 200.*\r\nConnection: keep-alive/is);
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

      const last = await pooled.health();
      expect(last).toMatch(/^HTTP\/1\.1 200/);
      expect(last).toMatch(/\r\nConnection: close\r\n/i);
      expect(await pooled.isClosed()).toBe(true);
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 30_000);

  it('without a proxy, SIGTERM closes idle keep-alive connections at once', async () => {
    const server = await startServer({ DATABASE_URL: await createTestDatabaseUrl() });
    try {
      const idle = await keepAliveConnection(server.url);
      expect(await idle.health()).toMatch(/^HTTP\/1\.1 200/);
      server.child.kill('SIGTERM');
      expect(await idle.isClosed()).toBe(true);
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 30_000);

  it('starts with an unreachable database, says so, reports not ready, and stays up', async () => {
    const server = await startServer({
      DATABASE_URL: 'sqlite:/dev/null/not-a-directory/app.sqlite3',
    });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      const page = await fetch(`${server.url}/login`);
      expect(page.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.output()).toContain('database not reachable');
      expect(server.child.exitCode).toBeNull();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 30_000);

  it('in production without MAIL_URL, says at start-up that verification and reset are off', async () => {
    const server = await startServer({
      NODE_ENV: 'production',
      DATABASE_URL: await createTestDatabaseUrl(),
      SESSION_SECRETS: 'a-production-secret-that-is-long-enough-000000',
      PUBLIC_URL: 'https://127.0.0.1',
    });
    try {
      expect(server.output()).toMatch(
        /MAIL_URL is unset: e-mail verification and password reset are off/,
      );
      expect((await fetch(`${server.url}/password/forgot`)).status).toBe(404);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 30_000);
});

describe('a server that cannot listen', () => {
  /** `npm run dev`'s server, in a process of its own, until it exits (30 s at most). */
  const run = async (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        DATABASE_URL: await createTestDatabaseUrl(),
        ...env,
      },
    });

  it('exits 1 when its port is taken, naming the port and how to choose another', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const result = await run({ PORT: String(port), HOST: '127.0.0.1' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`Port ${port} is already in use on 127.0.0.1`);
      expect(result.stderr).toContain(`PORT=${port + 1} npm run dev`);
      expect(result.stdout).not.toContain(`on http://127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  }, 40_000);

  it('exits 1 when HOST is not an address of this machine, and says what to use', async () => {
    const result = await run({ PORT: '0', HOST: '203.0.113.1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('HOST=203.0.113.1 is not an address of this machine');
    expect(result.stderr).toContain('HOST=127.0.0.1 npm run dev');
  }, 40_000);
});
