import type { Response } from 'supertest';

export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
  raw: string;
}

/** Every Set-Cookie header of a response, parsed so tests can assert on each attribute. */
export function setCookies(res: Response): SetCookie[] {
  const headers = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return headers.map((raw) => {
    const [pair = '', ...parts] = raw.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq === -1) attributes[part.toLowerCase()] = true;
      else attributes[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
    }
    return { name: pair.slice(0, separator), value: pair.slice(separator + 1), attributes, raw };
  });
}

export function setCookie(res: Response, name: string): SetCookie | undefined {
  return setCookies(res).find((cookie) => cookie.name === name);
}

/** The session id inside a signed `s:<id>.<signature>` cookie value. */
export function sessionIdOf(cookieValue: string): string {
  const decoded = decodeURIComponent(cookieValue);
  return decoded.slice(2, decoded.lastIndexOf('.'));
}
