// Talking to a running site the way a browser behind the TLS proxy would: the X-Forwarded-Proto
// header stands in for the proxy (the servers run with TRUST_PROXY=1 and production's secure
// cookies), and cookies are carried by hand.
export const PROXY_HEADERS = { 'x-forwarded-proto': 'https' };

export const BENCH_USER = { username: 'bench-user', password: 'a bench password nobody guesses' };

function cookiesOf(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(';')[0] ?? '');
}

function mergeCookies(jar: string[], fresh: string[]): string[] {
  const names = new Set(fresh.map((cookie) => cookie.split('=')[0]));
  return [...jar.filter((cookie) => !names.has(cookie.split('=')[0])), ...fresh];
}

/** A form's CSRF token and the cookie that goes with it, as the login page hands them out. */
export async function formToken(
  baseUrl: string,
  path: string,
  jar: string[] = [],
): Promise<{ token: string; cookies: string[] }> {
  const response = await fetch(baseUrl + path, {
    headers: { ...PROXY_HEADERS, cookie: jar.join('; ') },
  });
  const html = await response.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no CSRF token on ${path} (status ${response.status})`);
  return { token, cookies: mergeCookies(jar, cookiesOf(response)) };
}

async function post(
  baseUrl: string,
  path: string,
  fields: Record<string, string>,
  jar: string[],
): Promise<Response> {
  return fetch(baseUrl + path, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      ...PROXY_HEADERS,
      'content-type': 'application/x-www-form-urlencoded',
      cookie: jar.join('; '),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Registers the bench account (once per database); a 409 means it is already there. */
export async function registerBenchUser(baseUrl: string): Promise<void> {
  const { token, cookies } = await formToken(baseUrl, '/register');
  const { username, password } = BENCH_USER;
  const response = await post(baseUrl, '/register', { username, password, _csrf: token }, cookies);
  if (response.status !== 303 && response.status !== 409) {
    throw new Error(`registration failed with ${response.status}`);
  }
}

/** Signs the bench account in; returns the Cookie header of the signed-in browser. */
export async function signIn(baseUrl: string): Promise<string> {
  const { token, cookies } = await formToken(baseUrl, '/login');
  const response = await post(baseUrl, '/login', { ...BENCH_USER, _csrf: token }, cookies);
  if (response.status !== 303) throw new Error(`login failed with ${response.status}`);
  return mergeCookies(cookies, cookiesOf(response)).join('; ');
}

/** What a login POST needs, for a load generator that repeats it: body and Cookie header. */
export async function loginRequest(baseUrl: string): Promise<{ body: string; cookie: string }> {
  const { token, cookies } = await formToken(baseUrl, '/login');
  return {
    body: new URLSearchParams({ ...BENCH_USER, _csrf: token }).toString(),
    cookie: cookies.join('; '),
  };
}
