import type { Express } from 'express';
import request from 'supertest';
import { setCookies } from './cookies';

type Fields = Record<string, string>;

/**
 * A small stand-in for a browser: a cookie jar, and forms submitted the way a page submits them
 * (fetch the page, take its CSRF token, post). With `https`, every request carries
 * `X-Forwarded-Proto: https` as a TLS-terminating proxy would send it, and Secure cookies are
 * sent back (supertest's own agent drops them over plain http).
 */
export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(
    private readonly app: Express,
    /** `headers` go with every request: a browser's User-Agent, a proxy's X-Forwarded-For. */
    private readonly options: { https?: boolean; headers?: Record<string, string> } = {},
  ) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  get(path: string, headers: Record<string, string> = {}): Promise<request.Response> {
    return this.send(request(this.app).get(path), headers);
  }

  /** A raw POST: whatever fields are given, no token added. */
  post(
    path: string,
    body: Fields | string,
    headers: Record<string, string> = {},
  ): Promise<request.Response> {
    return this.send(request(this.app).post(path).type('form').send(body), headers);
  }

  /** The CSRF token that the page at `path` puts in its forms. */
  async csrfToken(path = '/'): Promise<string> {
    const page = await this.get(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!token) throw new Error(`${path} (${page.status}) has no form with a CSRF token`);
    return token;
  }

  /**
   * Fills in and submits a form: loads `from` (the page the form is on; by default the
   * action itself, as for /login), then posts the fields with that page's token.
   */
  async submit(
    action: string,
    fields: Fields,
    options: { from?: string; headers?: Record<string, string> } = {},
  ): Promise<request.Response> {
    const token = await this.csrfToken(options.from ?? action);
    return this.post(action, { ...fields, _csrf: token }, options.headers);
  }

  private async send(
    test: request.Test,
    headers: Record<string, string>,
  ): Promise<request.Response> {
    if (this.options.https) test.set('X-Forwarded-Proto', 'https');
    for (const [name, value] of Object.entries(this.options.headers ?? {})) test.set(name, value);
    if (this.jar.size > 0) {
      test.set('Cookie', [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    for (const [name, value] of Object.entries(headers)) test.set(name, value);
    const res = await test;
    for (const cookie of setCookies(res)) {
      const expires = cookie.attributes.expires;
      const gone =
        cookie.value === '' ||
        cookie.attributes['max-age'] === '0' ||
        (typeof expires === 'string' && Date.parse(expires) <= Date.now());
      if (gone) this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
    return res;
  }
}
