import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, sqliteFilename } from '../src/db';
import { Browser } from './helpers/browser';
import { freePort, startServer } from './helpers/server-process';
import { createTestApp, createTestDatabaseUrl, PASSWORD, register } from './helpers/test-app';
import { testDatabaseKind } from './helpers/test-database';

const isRoot = process.getuid?.() === 0;
const pgBin = fs.existsSync('/usr/lib/postgresql')
  ? path.join('/usr/lib/postgresql', fs.readdirSync('/usr/lib/postgresql')[0] ?? '', 'bin')
  : '';
const hasPostgres = isRoot && pgBin !== '' && fs.existsSync(path.join(pgBin, 'initdb'));

/** `it` when the condition holds, else `it.skip`: these faults need root or PostgreSQL's tools. */
const itWhen = (condition: boolean, _needs: string) => (condition ? it : it.skip);

describe('faults', () => {
  itWhen(isRoot && testDatabaseKind === 'sqlite', 'needs root to make a file immutable')(
    'a database file that turns read-only: 503 while it lasts, normal service after',
    async () => {
      const t = await createTestApp();
      const file = sqliteFilename(t.databaseUrl);
      // The database and its write-ahead log refuse writes, even through open file handles.
      // (Not the -shm file: SQLite maps it into memory, and an immutable mapping crashes.)
      const files = [file, `${file}-wal`];
      try {
        const browser = new Browser(t.app);
        await register(browser, 'reader');
        execFileSync('chattr', ['+i', ...files]);
        try {
          const login = await new Browser(t.app).submit('/login', {
            username: 'reader',
            password: PASSWORD,
          });
          expect(login.status).toBe(503);
          expect(login.headers['retry-after']).toBe('5');
          // Reading still works: a signed-in page is served; its history write is dropped.
          expect((await browser.get('/dashboard')).status).toBe(200);
        } finally {
          execFileSync('chattr', ['-i', ...files]);
        }
        const again = await new Browser(t.app).submit('/login', {
          username: 'reader',
          password: PASSWORD,
        });
        expect(again.status).toBe(303);
      } finally {
        await t.close();
      }
    },
  );

  it('kill -9 during writes, then a restart: the database is intact and sessions survive', async () => {
    const databaseUrl = await createTestDatabaseUrl();
    const env = { DATABASE_URL: databaseUrl, BCRYPT_COST: '4', REGISTRATIONS_PER_IP: '100000' };
    let server = await startServer(env);
    const base = server.url;
    // A signed-in visitor from before the crash.
    const form = async (url: string, cookies: string) => {
      const page = await fetch(`${url}/register`, { headers: { Cookie: cookies } });
      const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      return { token, cookie: String(page.headers.get('set-cookie')).split(';')[0] ?? '' };
    };
    const first = await form(base, '');
    const registered = await fetch(`${base}/register`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: first.cookie },
      body: new URLSearchParams({ username: 'survivor', password: PASSWORD, _csrf: first.token }),
    });
    expect(registered.status).toBe(303);
    const sessionCookie =
      registered.headers
        .getSetCookie()
        .find((c) => c.startsWith('sid='))
        ?.split(';')[0] ?? '';

    // Registrations in a tight loop, then the process is killed in the middle of them.
    let writes = 0;
    let running = true;
    const writer = (async () => {
      for (let i = 0; running; i++) {
        const { token, cookie } = await form(base, '').catch(() => ({ token: '', cookie: '' }));
        await fetch(`${base}/register`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
          body: new URLSearchParams({ username: `bulk${i}`, password: PASSWORD, _csrf: token }),
        })
          // Only a registration answered as done counts: under load some get a 503 (the password
          // threads' queue is full), and those wrote nothing to look for afterwards.
          .then((res) => (writes += res.status === 303 ? 1 : 0))
          .catch(() => (running = false));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.child.kill('SIGKILL');
    await server.exited;
    running = false;
    await writer;
    expect(writes).toBeGreaterThan(5);

    server = await startServer(env);
    try {
      const db = createDatabase({ databaseUrl });
      if (testDatabaseKind === 'sqlite') {
        expect(await db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      }
      expect(Number((await db('users').count({ n: '*' }))[0]?.n)).toBeGreaterThan(writes - 2);
      await db.destroy();
      const dashboard = await fetch(`${server.url}/dashboard`, {
        headers: { Cookie: sessionCookie },
        redirect: 'manual',
      });
      expect(dashboard.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);

  // Its own throwaway cluster, so once per CI run is enough: with the SQLite suite.
  itWhen(hasPostgres && testDatabaseKind === 'sqlite', 'root and the PostgreSQL server binaries')(
    'PostgreSQL stopped and restarted: 503 while it is down, the same sessions after',
    async () => {
      // A throwaway cluster of our own, on its own port: the shared server is not touched.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fault-'));
      fs.chownSync(
        dir,
        Number(execFileSync('id', ['-u', 'postgres']).toString()),
        Number(execFileSync('id', ['-g', 'postgres']).toString()),
      );
      const port = await freePort();
      const asPostgres = (tool: string, ...args: string[]) =>
        execFileSync('runuser', ['-u', 'postgres', '--', path.join(pgBin, tool), ...args], {
          stdio: 'ignore',
        });
      asPostgres('initdb', '-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres');
      const start = () =>
        asPostgres(
          'pg_ctl',
          '-D',
          `${dir}/data`,
          '-w',
          '-l',
          `${dir}/log`,
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
          'start',
        );
      const stop = () => asPostgres('pg_ctl', '-D', `${dir}/data`, '-w', '-m', 'fast', 'stop');
      start();
      try {
        const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
        const migrate = createDatabase({ databaseUrl });
        await migrate.migrate.latest();
        await migrate.destroy();
        const t = await createTestApp({}, { databaseUrl });
        try {
          const browser = new Browser(t.app);
          await register(browser, 'pg_user');
          expect((await browser.get('/dashboard')).status).toBe(200);

          stop();
          const down = await browser.get('/dashboard');
          expect(down.status).toBe(503);
          expect(down.headers['retry-after']).toBe('5');
          expect((await browser.get('/readyz')).status).toBe(503);

          start();
          expect((await browser.get('/dashboard')).status).toBe(200);
          expect((await browser.get('/readyz')).status).toBe(200);
        } finally {
          await t.close();
        }
      } finally {
        stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
