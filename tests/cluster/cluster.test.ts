import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startCluster, type Cluster } from './cluster';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

// The certificate is self-signed, made when the cluster starts: trusted here, and nowhere else.
const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: 8 });

/** A browser for the https front door: keeps cookies, including Secure ones. */
class Client {
  private readonly jar = new Map<string, string>();
  constructor(private readonly base: string) {}

  cookie(name: string) {
    return this.jar.get(name);
  }

  request(method: string, path: string, form?: Record<string, string>): Promise<Reply> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.base}${path}`,
        {
          method,
          agent,
          headers: {
            Cookie: [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '),
            ...(body && { 'Content-Type': 'application/x-www-form-urlencoded' }),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += String(chunk)));
          res.on('end', () => {
            for (const header of res.headers['set-cookie'] ?? []) {
              const [pair = ''] = header.split(';');
              const [name = '', value = ''] = pair.split('=');
              if (value === '' || /max-age=0/i.test(header)) this.jar.delete(name);
              else this.jar.set(name, value);
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
          });
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  }

  async submit(action: string, fields: Record<string, string>, from = action) {
    const page = await this.request('GET', from);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    return this.request('POST', action, { ...fields, _csrf: token });
  }
}

/** Keeps `clients` busy with `send` (loading /dashboard) until stop(); returns every status. */
function steadyLoad(
  clients: Client[],
  send = (client: Client) => client.request('GET', '/dashboard'),
) {
  let running = true;
  const statuses: number[] = [];
  const errors: string[] = [];
  const loops = clients.map(async (client) => {
    while (running) {
      try {
        statuses.push((await send(client)).status);
      } catch (error) {
        errors.push(String(error));
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { statuses, errors };
    },
  };
}

const PASSWORD = 'a long and unremarkable passphrase';
let cluster: Cluster;

beforeAll(async () => {
  // Every test client reaches nginx from 127.0.0.1, and this file registers more accounts than
  // one address may in a window.
  cluster = await startCluster({ size: 3, env: { REGISTRATIONS_PER_IP: '100' } });
}, 120_000);
afterAll(() => cluster?.stop(), 60_000);

async function signedInClient(username: string) {
  const client = new Client(cluster.url);
  const res = await client.submit('/register', { username, password: PASSWORD });
  expect(res.status).toBe(303);
  return client;
}

describe('three instances behind nginx', () => {
  it('spreads requests over all three', async () => {
    const seen = new Set<string>();
    const client = new Client(cluster.url);
    for (let i = 0; i < 30; i++)
      seen.add(String((await client.request('GET', '/')).headers['x-instance']));
    expect([...seen].sort()).toEqual(['app-1', 'app-2', 'app-3']);
  });

  it('issues the production cookie for real: __Host-sid, Secure, over TLS', async () => {
    const client = new Client(cluster.url);
    const res = await client.submit('/register', { username: 'tls_user', password: PASSWORD });
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).join('\n');
    expect(setCookie).toMatch(/__Host-sid=[^;]+;.*Secure/);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
  });

  it('a login on one instance is valid on the others', async () => {
    const client = await signedInClient('everywhere');
    const seen = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const res = await client.request('GET', '/dashboard');
      expect(res.status).toBe(200);
      seen.add(String(res.headers['x-instance']));
    }
    expect(seen.size).toBe(3);
  });

  it('a session signed out on one instance is anonymous on all three at once', async () => {
    const laptop = await signedInClient('revoked_everywhere');
    const phone = new Client(cluster.url);
    expect(
      (await phone.submit('/login', { username: 'revoked_everywhere', password: PASSWORD })).status,
    ).toBe(303);
    const page = await laptop.request('GET', '/account/sessions');
    const phoneCard = page.text
      .split('<li class="card"')
      .find((card) => !card.includes('This device') && card.includes('name="session"'));
    const handle = /name="session" value="([\w-]+)"/.exec(phoneCard ?? '')?.[1] ?? '';
    const revoked = await laptop.submit(
      '/account/sessions/revoke',
      { session: handle },
      '/account/sessions',
    );
    expect(revoked.status).toBe(303);

    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await phone.request('GET', '/dashboard');
      expect(res.status).toBe(302);
      seen.add(String(res.headers['x-instance']));
    }
    expect(seen.size).toBe(3);
    expect((await laptop.request('GET', '/dashboard')).status).toBe(200);
  });

  it('kill -9 of one instance under steady load logs nobody out', async () => {
    const clients = await Promise.all([1, 2, 3, 4].map((i) => signedInClient(`steady${i}`)));
    const load = steadyLoad(clients);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const victim = cluster.instances[1];
    victim?.process.kill('SIGKILL');
    await victim?.exited;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { statuses, errors } = await load.stop();

    const failed = statuses.filter((status) => status !== 200);
    console.log(
      `kill -9 under load: ${statuses.length} requests, ${failed.length} not 200, ${errors.length} errors`,
    );
    expect(statuses.length).toBeGreaterThan(20);
    // Nobody was sent to the login page, and nginx retried what the dead instance dropped.
    expect(statuses).not.toContain(302);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    await cluster.start(1);
    for (const client of clients)
      expect((await client.request('GET', '/dashboard')).status).toBe(200);
  }, 60_000);

  it('a rolling restart of all three loses no session', async () => {
    const clients = await Promise.all([1, 2, 3].map((i) => signedInClient(`rolling${i}`)));
    const load = steadyLoad(clients);
    // POSTs as well: nginx never retries one that reached an instance, so a keep-alive
    // connection cut under it would be a 502. These carry no CSRF token: the instance's own
    // 403 proves an instance answered.
    const posts = steadyLoad(
      [1, 2].map(() => new Client(cluster.url)),
      (client) => client.request('POST', '/login', { username: 'nobody', password: 'nothing' }),
    );
    for (let i = 0; i < cluster.instances.length; i++) {
      const instance = cluster.instances[i];
      instance?.process.kill('SIGTERM');
      expect(await instance?.exited).toBe(0);
      await cluster.start(i);
    }
    const { statuses, errors } = await load.stop();
    const posted = await posts.stop();
    console.log(
      `rolling restart: ${statuses.length} GETs, ${posted.statuses.length} POSTs, ` +
        `${errors.length + posted.errors.length} errors`,
    );
    expect(statuses).not.toContain(302);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(errors).toEqual([]);
    expect(posted.statuses.length).toBeGreaterThan(20);
    expect(posted.statuses.filter((status) => status !== 403)).toEqual([]);
    expect(posted.errors).toEqual([]);
    for (const client of clients)
      expect((await client.request('GET', '/dashboard')).status).toBe(200);
  }, 120_000);

  it('counts failed logins across instances: the 11th attempt gets 429', async () => {
    await signedInClient('guessed');
    // One attacker, one form, ten POSTs in a row: nginx's round robin then spreads the POSTs
    // themselves. (A fresh GET before each POST would keep every POST on one instance whenever
    // nginx has two upstreams in rotation, e.g. one still marked failed after the restarts.)
    const attacker = new Client(cluster.url);
    let page = await attacker.request('GET', '/login');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      page = await attacker.request('POST', '/login', {
        username: 'guessed',
        password: 'wrong guess',
        _csrf: token,
      });
      expect(page.status).toBe(401);
      seen.add(String(page.headers['x-instance']));
    }
    expect(seen.size).toBeGreaterThan(1);
    const blocked = await new Client(cluster.url).submit('/login', {
      username: 'guessed',
      password: PASSWORD,
    });
    expect(blocked.status).toBe(429);
  }, 60_000);

  it('the access log shows a mailed link’s path without its token, as docs/production.md says', async () => {
    const token = 'Zm9yIHlvdXIgZXllcyBvbmx5LCBub3QgZm9yIHRoZSBsb2c';
    const client = new Client(cluster.url);
    await client.request('GET', `/password/reset/${token}`);
    await client.request('GET', `/email/verify/${token}?from=mail`);
    const log = fs.readFileSync(cluster.accessLog, 'utf8');
    expect(log).toContain('"GET /password/reset/:token"');
    expect(log).toContain('"GET /email/verify/:token"');
    expect(log).not.toContain(token);
    // The lines the documentation tells operators to use are the ones tested here.
    const docs = fs.readFileSync(path.join(__dirname, '../../docs/production.md'), 'utf8');
    const documented = /```nginx\n(# The path a log may show[\s\S]*?)```/.exec(docs)?.[1] ?? '';
    const template = fs.readFileSync(path.join(__dirname, 'nginx.conf.template'), 'utf8');
    const lines = documented.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(template).toContain(line.trim());
  });
});
