// Talking to a running site the way a browser behind the TLS proxy would: the X-Forwarded-Proto
// header stands in for the proxy (the servers run with TRUST_PROXY=1 and production's secure
// cookies), and cookies are carried by hand.
export const PROXY_HEADERS = { 'x-forwarded-proto': 'https' };

/**
 * The benchmark's people: ten accounts, one per connection. Ten connections of one account from
 * one address would measure the throttle and the password threads' fair shares (built to refuse
 * exactly that), not the server.
 */
export const BENCH_PEOPLE = 10;
export const benchUser = (person: number) => ({
  username: `bench-user-${person}`,
  password: 'a bench password nobody guesses',
});

/** Each person's own client address, as the proxy would forward it. */
export const benchAddress = (person: number) => `10.0.0.${person + 1}`;

function cookiesOf(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => {
    const [cookie = ''] = line.split(';');
    // A cookie set to expire at once is one the browser deletes: kept as "name=" it stands for
    // that deletion in mergeCookies().
    return /;\s*(expires=thu, 01 jan 1970|max-age=0\b)/i.test(line)
      ? `${cookie.split('=')[0]}=`
      : cookie;
  });
}

/** The jar after a response's cookies, as a browser keeps it: a cleared cookie is gone. */
function mergeCookies(jar: string[], fresh: string[]): string[] {
  const names = new Set(fresh.map((cookie) => cookie.split('=')[0]));
  return [...jar.filter((cookie) => !names.has(cookie.split('=')[0])), ...fresh].filter(
    (cookie) => !cookie.endsWith('='),
  );
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
  person: number,
): Promise<Response> {
  return fetch(baseUrl + path, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      ...PROXY_HEADERS,
      'x-forwarded-for': benchAddress(person),
      'content-type': 'application/x-www-form-urlencoded',
      cookie: jar.join('; '),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Registers the bench accounts (once per database); a 409 means one is already there. */
export async function registerBenchUsers(baseUrl: string): Promise<void> {
  for (let person = 0; person < BENCH_PEOPLE; person++) {
    const { token, cookies } = await formToken(baseUrl, '/register');
    const fields = { ...benchUser(person), _csrf: token };
    const response = await post(baseUrl, '/register', fields, cookies, person);
    if (response.status !== 303 && response.status !== 409) {
      throw new Error(`registration failed with ${response.status}`);
    }
  }
}

/** Signs one bench account in; returns the Cookie header of the signed-in browser. */
export async function signIn(baseUrl: string, person: number): Promise<string> {
  const { token, cookies } = await formToken(baseUrl, '/login');
  const fields = { ...benchUser(person), _csrf: token };
  const response = await post(baseUrl, '/login', fields, cookies, person);
  if (response.status !== 303) throw new Error(`login failed with ${response.status}`);
  // Then the page it leads to, as a browser follows the redirect: that page hands out the
  // signed-in session's CSRF token, which every later page reuses. The load generator sends a
  // fixed Cookie header, so it must start with the cookies a browser would hold by then.
  const jar = mergeCookies(cookies, cookiesOf(response));
  const landing = await fetch(baseUrl + (response.headers.get('location') ?? '/'), {
    headers: { ...PROXY_HEADERS, cookie: jar.join('; ') },
  });
  if (landing.status !== 200) throw new Error(`the page after login answered ${landing.status}`);
  return mergeCookies(jar, cookiesOf(landing)).join('; ');
}

/** What one person's login POST needs, for a load generator that repeats it. */
export async function loginRequest(
  baseUrl: string,
  person: number,
): Promise<{ body: string; cookie: string; address: string }> {
  const { token, cookies } = await formToken(baseUrl, '/login');
  return {
    body: new URLSearchParams({ ...benchUser(person), _csrf: token }).toString(),
    cookie: cookies.join('; '),
    address: benchAddress(person),
  };
}

/** The flood's one address: not one of the people's. */
export const FLOOD_ADDRESS = '10.0.9.9';

/**
 * What one registration POST of the flood needs: a form token, and the password zxcvbn takes
 * longest over (64 random digits), so that each request costs an estimate and then a bcrypt hash
 * (every one after the first is a 409 for the taken name, once both have run).
 */
export async function floodRequest(baseUrl: string): Promise<{ body: string; cookie: string }> {
  const { token, cookies } = await formToken(baseUrl, '/register');
  const password = Array.from({ length: 64 }, () => Math.floor(Math.random() * 10)).join('');
  return {
    body: new URLSearchParams({ username: 'flood', password, _csrf: token }).toString(),
    cookie: cookies.join('; '),
  };
}

/**
 * Signs a bench person up on the better-auth peer (bench/peers/), which signs them in; returns
 * the Cookie header of that browser (the session token, and with the cookie cache its cache).
 */
export async function signUpOnPeer(baseUrl: string, person: number): Promise<string> {
  const { username, password } = benchUser(person);
  const response = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    // better-auth checks the Origin of its POSTs against its own address.
    headers: {
      ...PROXY_HEADERS,
      'content-type': 'application/json',
      'x-forwarded-for': benchAddress(person),
      origin: baseUrl,
    },
    body: JSON.stringify({ name: username, email: `${username}@example.com`, password }),
  });
  if (!response.ok) throw new Error(`peer sign-up failed with ${response.status}`);
  return cookiesOf(response).join('; ');
}
