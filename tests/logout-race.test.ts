import type { SessionData, Store } from 'express-session';
import { Browser } from './helpers/browser';
import { createTestApp, logOut, register, sessionRowOf, type TestApp } from './helpers/test-app';

/**
 * Holds one session read of the store, after the row has been read, until released: a request
 * that is slow between loading its session and saving it (a slow page, a slow network).
 */
class SlowRead {
  private armed = false;
  private reachedGate: () => void = () => undefined;
  private openGate: () => void = () => undefined;
  /** Resolves once the held request has read its session. */
  reached: Promise<void> = Promise.resolve();

  pace(store: Store) {
    const read = store.get.bind(store);
    store.get = (sid: string, callback: (err: unknown, session?: SessionData | null) => void) =>
      read(sid, (err, session) => {
        if (!this.armed) return callback(err, session);
        this.armed = false;
        new Promise<void>((resolve) => (this.openGate = resolve)).then(() =>
          callback(err, session),
        );
        this.reachedGate();
      });
  }

  /** Holds the next read. */
  arm() {
    this.armed = true;
    this.reached = new Promise((resolve) => (this.reachedGate = resolve));
  }

  release() {
    this.openGate();
  }
}

let t: TestApp;
const slow = new SlowRead();
beforeAll(async () => {
  t = await createTestApp({}, { onStore: (store) => slow.pace(store) });
});
afterAll(() => t.close());

describe('a request in flight during logout', () => {
  it('SECURITY 6: does not write the session back: the old cookie stays anonymous', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'racer');
    const cookie = browser.cookie('sid');

    // Tab 1 asks for a page (which records history, so its session will be saved)...
    const tab1 = new Browser(t.app);
    tab1.setCookie('sid', String(cookie));
    slow.arm();
    const inFlight = tab1.get('/about');
    await slow.reached;

    // ...and while it is in flight, tab 2 logs out.
    expect((await logOut(browser)).status).toBe(303);
    expect(await sessionRowOf(t.db, cookie)).toBeUndefined();

    slow.release();
    expect((await inFlight).status).toBe(200);

    expect(await sessionRowOf(t.db, cookie)).toBeUndefined();
    const replay = new Browser(t.app);
    replay.setCookie('sid', String(cookie));
    expect((await replay.get('/dashboard')).status).toBe(302);
  });
});
