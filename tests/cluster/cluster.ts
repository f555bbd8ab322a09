/**
 * Several app instances on one PostgreSQL database behind nginx, which terminates TLS with a
 * self-signed certificate made at start: production cookies (__Host-sid, Secure) for real.
 *
 *   npm run cluster            start it and keep it running until Ctrl-C
 *
 * The cluster test (npm run test:cluster) drives the same functions.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { knexConfig } from '../../src/db';
import { freePort } from '../helpers/server-process';

const root = path.resolve(__dirname, '../..');

export interface Instance {
  name: string;
  port: number;
  process: ChildProcess;
  exited: Promise<number | null>;
}

export interface Cluster {
  url: string;
  databaseUrl: string;
  /** nginx's access log, in the log format its configuration gives. */
  accessLog: string;
  instances: Instance[];
  /** Starts (or restarts) instance `index` and waits until it is ready. */
  start(index: number): Promise<Instance>;
  stop(): Promise<void>;
}

/** nginx from Debian's package, installed if it is missing (the machines here run as root). */
export function ensureNginx(): string {
  const found = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((file) => fs.existsSync(file));
  if (found) return found;
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'nginx'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return ensureNginx();
}

async function waitFor(check: () => Promise<boolean>, what: string, seconds = 30) {
  for (let i = 0; i < seconds * 10; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startCluster(
  options: { size?: number; serverUrl?: string; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const size = options.size ?? 3;
  const serverUrl =
    options.serverUrl ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-cluster-'));

  // A database of its own, migrated once before any instance starts.
  const name = `sst_cluster_${randomBytes(4).toString('hex')}`;
  const admin = knex(knexConfig(serverUrl));
  await admin.raw(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const db = knex(knexConfig(databaseUrl));
  await db.migrate.latest();
  await db.destroy();

  const secret = randomBytes(48).toString('base64');
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const proxyPort = Number(process.env.CLUSTER_PORT ?? (await freePort()));
  const instances: Instance[] = [];

  const start = async (index: number): Promise<Instance> => {
    const port = ports[index] as number;
    const instanceName = `app-${index + 1}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        INSTANCE_NAME: instanceName,
        DATABASE_URL: databaseUrl,
        SESSION_SECRETS: secret,
        TRUST_PROXY: '1',
        // The address nginx serves the site at: the one host the instances answer to.
        PUBLIC_URL: `https://localhost:${proxyPort}`,
        ...options.env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const instance = { name: instanceName, port, process: child, exited };
    instances[index] = instance;
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      `${instanceName} to be ready`,
    );
    return instance;
  };
  for (let i = 0; i < size; i++) await start(i);

  // The certificate for 127.0.0.1/localhost, made now and thrown away with the cluster.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );

  const config = fs
    .readFileSync(path.join(__dirname, 'nginx.conf.template'), 'utf8')
    .replaceAll('{{dir}}', dir)
    .replaceAll('{{port}}', String(proxyPort))
    .replace(
      '{{servers}}',
      // max_fails=0: no instance is ever taken out of rotation. A stopped instance refuses at
      // once and nginx tries the next one (proxy_next_upstream), whereas "1 failure → out for
      // fail_timeout" took every instance out during a quick rolling restart: 502s for all.
      // On a network where a dead host drops packets instead, use max_fails with a short
      // proxy_connect_timeout.
      ports.map((port) => `    server 127.0.0.1:${port} max_fails=0;`).join('\n'),
    );
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
  const nginx = spawn(ensureNginx(), ['-c', path.join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const nginxExited = new Promise((resolve) => nginx.once('exit', resolve));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(proxyPort, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    'nginx to listen',
  );

  return {
    url: `https://localhost:${proxyPort}`,
    databaseUrl,
    accessLog: path.join(dir, 'access.log'),
    instances,
    start,
    async stop() {
      nginx.kill('SIGTERM');
      for (const instance of instances) instance.process.kill('SIGTERM');
      await Promise.all([nginxExited, ...instances.map((instance) => instance.exited)]);
      const cleanup = knex(knexConfig(serverUrl));
      await cleanup.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  void (async () => {
    const cluster = await startCluster();
    console.log(
      `${cluster.instances.length} instances behind nginx at ${cluster.url} ` +
        '(self-signed certificate). Ctrl-C stops everything.',
    );
    process.once('SIGINT', () => void cluster.stop().then(() => process.exit(0)));
  })();
}
