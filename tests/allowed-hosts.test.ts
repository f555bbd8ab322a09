import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../src/config';
import { Browser } from './helpers/browser';
import { logLines } from './helpers/log-lines';
import { createTestApp, PRODUCTION_ENV, type TestApp } from './helpers/test-app';

describe('the Host allow-list', () => {
  let dev: TestApp;
  let prod: TestApp;
  const { lines, logStream } = logLines();
  beforeAll(async () => {
    dev = await createTestApp({ NODE_ENV: 'development', LOG_LEVEL: 'warn' }, { logStream });
    prod = await createTestApp(
      { ...PRODUCTION_ENV, PUBLIC_URL: 'https://site.example', ALLOWED_HOSTS: 'app.internal' },
      { databaseUrl: dev.databaseUrl },
    );
  });
  afterAll(async () => {
    await prod.close();
    await dev.close();
  });

  it('SECURITY+ 27: development answers localhost and 127.0.0.1, on any port, and nothing else', async () => {
    const browser = new Browser(dev.app);
    for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'LOCALHOST']) {
      expect((await browser.get('/', { Host: host })).status).toBe(200);
    }
    // A DNS-rebinding page reaches 127.0.0.1 under its own name, which the browser sends.
    const rebound = await browser.get('/', { Host: 'attacker.example:3000' });
    expect(rebound.status).toBe(400);
    expect(rebound.text).toContain('Request refused');
    expect(rebound.headers['content-security-policy']).toBeDefined();
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'host_refused', reason: 'attacker.example:3000' }),
    );
  });

  it('SECURITY+ 27: production answers PUBLIC_URL’s host and ALLOWED_HOSTS only', async () => {
    const browser = new Browser(prod.app, { https: true });
    expect((await browser.get('/login', { Host: 'site.example' })).status).toBe(200);
    expect((await browser.get('/login', { Host: 'app.internal:8080' })).status).toBe(200);
    expect((await browser.get('/login', { Host: 'localhost' })).status).toBe(400);
    expect((await browser.get('/login', { Host: 'site.example.attacker.example' })).status).toBe(
      400,
    );
    expect((await browser.post('/login', {}, { Host: 'evil.example' })).status).toBe(400);
  });

  it('health probes answer whatever the Host: orchestrators probe by address', async () => {
    const browser = new Browser(prod.app);
    expect((await browser.get('/healthz', { Host: '10.1.2.3:3000' })).status).toBe(200);
  });

  it('production refuses to start without PUBLIC_URL, and names it', () => {
    const { PUBLIC_URL: _, ...withoutUrl } = { ...PRODUCTION_ENV };
    expect(() => loadConfig(withoutUrl)).toThrow(ConfigError);
    expect(() => loadConfig(withoutUrl)).toThrow(/PUBLIC_URL is required in production/);
    expect(() => loadConfig({ ...PRODUCTION_ENV, ALLOWED_HOSTS: 'bad host/' })).toThrow(
      /ALLOWED_HOSTS/,
    );
  });
});

describe('the development outbox', () => {
  let dev: TestApp;
  beforeAll(async () => {
    dev = await createTestApp({ NODE_ENV: 'development', TRUST_PROXY: '1' });
  });
  afterAll(() => dev.close());

  it('SECURITY+ 27: answers a browser on this machine', async () => {
    expect((await new Browser(dev.app).get('/dev/outbox')).status).toBe(200);
  });

  it('SECURITY+ 27: is a 404 for a client a proxy forwards from elsewhere', async () => {
    const res = await new Browser(dev.app).get('/dev/outbox', { 'X-Forwarded-For': '192.0.2.7' });
    expect(res.status).toBe(404);
  });

  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address && !address.internal && address.family === 'IPv4')?.address;
  (external ? it : it.skip)(
    'SECURITY+ 27: is a 404 for a client connected from another machine’s address',
    async () => {
      const server = http.createServer(dev.app).listen(0, '0.0.0.0');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        // Connected to this machine's outside address: the socket's peer is not loopback.
        const status = await new Promise<number>((resolve, reject) => {
          http
            .get({ host: external, port, path: '/dev/outbox', headers: { Host: 'localhost' } })
            .once('response', (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .once('error', reject);
        });
        expect(status).toBe(404);
      } finally {
        server.close();
      }
    },
  );
});
