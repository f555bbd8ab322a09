import bcrypt from 'bcryptjs';
import { Browser } from './helpers/browser';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';
import { createPasswordPool, PasswordWorkBusyError } from '../src/passwords/password-pool';
import * as passwords from '../src/passwords/passwords';

afterEach(() => jest.restoreAllMocks());

describe('password work off the event loop', () => {
  it('hashing and checking never run bcrypt on the main thread', async () => {
    const onMainThread = [
      jest.spyOn(bcrypt, 'hash'),
      jest.spyOn(bcrypt, 'hashSync'),
      jest.spyOn(bcrypt, 'compare'),
      jest.spyOn(bcrypt, 'compareSync'),
    ];
    const hash = await passwords.hashPassword('a password for the worker', 4);
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await passwords.verifyPassword('a password for the worker', hash)).toBe(true);
    expect(await passwords.verifyPassword('another password', hash)).toBe(false);
    for (const spy of onMainThread) expect(spy).not.toHaveBeenCalled();
  });

  it('serves tasks in the order they arrive, even under continuous load', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 16 });
    try {
      // Six clients, each submitting its next task the moment the last one is done: the load
      // under which piscina's own queue left some tasks waiting for the whole run.
      let submitted = 0;
      const finished: number[] = [];
      const client = async () => {
        for (let i = 0; i < 5; i++) {
          const ticket = submitted++;
          await pool.run({ op: 'hash', input: 'x', cost: 4 });
          finished.push(ticket);
        }
      };
      await Promise.all(Array.from({ length: 6 }, client));
      expect(finished).toEqual([...finished].sort((a, b) => a - b));
    } finally {
      await pool.close();
    }
  });

  it('strength estimates run in one thread of their own, started by the first one', async () => {
    // zxcvbn's dictionaries cost every thread that loads them about 65 MB: loaded in each of the
    // bcrypt threads, they made the process hundreds of MB larger on a machine with many cores.
    const pool = createPasswordPool({ threads: 3 });
    try {
      await Promise.all([1, 2, 3].map(() => pool.run({ op: 'hash', input: 'x', cost: 4 })));
      expect(pool.threads()).toEqual({ password: 3, strength: 0 });
      const estimates = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          pool.run({ op: 'strength', password: `lanterns over the harbour ${i}`, userInputs: [] }),
        ),
      );
      for (const estimate of estimates) expect(estimate).toMatchObject({ score: 4 });
      expect(pool.threads()).toEqual({ password: 3, strength: 1 });
    } finally {
      await pool.close();
    }
  });

  it('with a single password thread, estimates run in it: no second thread for them', async () => {
    const pool = createPasswordPool({ threads: 1 });
    try {
      const estimate = await pool.run({ op: 'strength', password: 'password1', userInputs: [] });
      expect(estimate).toMatchObject({ score: 0 });
      expect(pool.threads()).toEqual({ password: 1, strength: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a full queue refuses new work at once with a 503 and Retry-After', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 2 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => pool.run({ op: 'hash', input: 'x', cost: 8 })),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      const hashed = results.filter((r) => r.status === 'fulfilled');
      // One task running and two waiting (or three waiting while the thread starts).
      expect(hashed.length).toBeGreaterThanOrEqual(2);
      expect(hashed.length).toBeLessThanOrEqual(3);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(PasswordWorkBusyError);
        expect(r.reason).toMatchObject({ status: 503, retryAfterSeconds: 2 });
      }
      // Once the queue drains, work is accepted again.
      expect(await pool.run({ op: 'hash', input: 'x', cost: 4 })).toMatch(/^\$2b\$04\$/);
    } finally {
      await pool.close();
    }
  });
});

describe('login while password work is saturated', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await register(new Browser(t.app), 'storm_user');
  });
  afterAll(() => t.close());

  it('answers 503 with Retry-After and a page that says why', async () => {
    jest.spyOn(passwords, 'verifyPassword').mockRejectedValue(new PasswordWorkBusyError());
    const res = await logIn(new Browser(t.app), 'storm_user', PASSWORD);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.text).toContain('Very many people are signing in at this moment.');
  });
});

describe('a fair share of the password threads', () => {
  const task = { op: 'hash', input: 'x', cost: 6 } as const;

  it('SECURITY+ 2: a second address is served next, not after everything the first one queued', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 64 });
    try {
      const finished: string[] = [];
      const run = (label: string, address: string) =>
        pool.run(task, { address }).then(() => finished.push(label));
      const flood = Array.from({ length: 6 }, (_, i) => run(`a${i}`, 'address-a'));
      await new Promise((resolve) => setImmediate(resolve));
      const other = run('b0', 'address-b');
      await Promise.all([...flood, other]);
      expect(finished.indexOf('b0')).toBeLessThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });

  it('SECURITY+ 2: one address may queue only a few checks; the rest are refused with 429', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 64, waitingPerAddress: 4 });
    try {
      const results = await Promise.allSettled([
        ...Array.from({ length: 10 }, () => pool.run(task, { address: 'greedy' })),
        pool.run(task, { address: 'modest' }),
      ]);
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused.length).toBeGreaterThanOrEqual(5);
      for (const r of refused) expect(r.reason).toMatchObject({ status: 429 });
      expect(results.at(-1)?.status).toBe('fulfilled');
    } finally {
      await pool.close();
    }
  });

  it('SECURITY+ 23: a full queue makes room for an address with less waiting, at the cost of the one with most', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 4, waitingPerAddress: 8 });
    try {
      // One address fills the queue (one running, four waiting)...
      const flood = Array.from({ length: 5 }, () => pool.run(task, { address: 'flooder' }));
      await new Promise((resolve) => setImmediate(resolve));
      // ...and two others arrive: each takes a place the flood held, which is refused (429).
      const others = ['first', 'second'].map((address) => pool.run(task, { address }));
      const flooded = await Promise.allSettled(flood);
      expect((await Promise.allSettled(others)).map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
      ]);
      const refused = flooded.filter((r) => r.status === 'rejected');
      expect(refused).toHaveLength(2);
      for (const r of refused) expect(r.reason).toMatchObject({ status: 429 });
    } finally {
      await pool.close();
    }
  });

  it('SECURITY+ 23: a queue full of equal shares refuses a newcomer with 503, and one that already waits with 429', async () => {
    const pool = createPasswordPool({ threads: 1, queueLimit: 2, waitingPerAddress: 8 });
    try {
      const first = [pool.run(task, { address: 'a' }), pool.run(task, { address: 'b' })];
      const third = pool.run(task, { address: 'c' });
      await new Promise((resolve) => setImmediate(resolve));
      await expect(pool.run(task, { address: 'd' })).rejects.toBeInstanceOf(PasswordWorkBusyError);
      await expect(pool.run(task, { address: 'b' })).rejects.toMatchObject({ status: 429 });
      await Promise.all([...first, third]);
    } finally {
      await pool.close();
    }
  });

  it('SECURITY+ 2: one account has one check in flight at a time, even with threads free', async () => {
    let inFlight = 0;
    let most = 0;
    const pool = createPasswordPool({
      threads: 2,
      queueLimit: 64,
      observe: (event, owner) => {
        if (owner?.account !== 'same-account') return;
        inFlight += event === 'start' ? 1 : -1;
        most = Math.max(most, inFlight);
      },
    });
    try {
      await Promise.all(
        ['x', 'y', 'z'].map((label) =>
          pool.run(task, { address: `address-${label}`, account: 'same-account' }),
        ),
      );
      expect(most).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
