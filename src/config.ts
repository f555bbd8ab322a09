import dotenv from 'dotenv';
import { z } from 'zod';
import path from 'node:path';
import { projectRoot, runningBuild } from './paths';

/**
 * The development default secret. It is public (it is in this file), so production refuses it;
 * development uses it so that `npm run dev` works without a set-up step, and says so in the log.
 */
export const DEVELOPMENT_SECRET = 'development-only-secret-do-not-use-in-production';

/** The value `.env.example` ships with: copying the example file must not make a working secret. */
export const EXAMPLE_SECRET = 'replace-me-with-at-least-32-random-bytes-from-openssl';

/** Secrets anyone can read: ours and the tutorials'. Production refuses them. */
const KNOWN_SECRETS = new Set([
  DEVELOPMENT_SECRET,
  EXAMPLE_SECRET,
  'keyboard cat',
  'secret',
  'keep it secret, keep it safe!',
  'a5d63fc5-17a5-459c-b3ba-6d81792158fc',
]);

const MIN_SECRET_BYTES = 32;

/** Fewer different characters than this, and a secret is a pattern, however long. */
const MIN_SECRET_DISTINCT_CHARACTERS = 10;

/**
 * Why a secret that is long enough is still obviously weak, or undefined. Only the patterns a
 * person types when told "at least 32 characters": one character held down, a word repeated
 * (the tutorials' "keyboard cat" four times), a published value with padding around it.
 */
function secretWeakness(secret: string): string | undefined {
  const lower = secret.toLowerCase();
  // Inside a longer secret, only the distinctive ones: "secret" is a fine word to have in one.
  const published = [...KNOWN_SECRETS].find(
    (known) => known.length >= 12 && lower.includes(known.toLowerCase()),
  );
  if (published) return `contains the published value "${published}"`;
  if (/^(.+?)\1+$/s.test(secret)) return 'is a shorter string repeated';
  if (new Set(secret).size < MIN_SECRET_DISTINCT_CHARACTERS) {
    return `uses fewer than ${MIN_SECRET_DISTINCT_CHARACTERS} different characters`;
  }
  return undefined;
}

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value) => value.trim())
    .refine((value) => /^\d+$/.test(value), `${name} must be a whole number`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `${name} must be between ${min} and ${max}`);

const flag = (name: string, fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  SITE_NAME: z.string().trim().min(1).max(60).default('Session Starter'),
  HOST: z.string().min(1).default('127.0.0.1'),
  INSTANCE_NAME: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'INSTANCE_NAME may use letters, digits, "_", "." and "-"')
    .optional(),
  PORT: integer('PORT', 0, 65535, 3000),
  DATABASE_URL: z
    .string()
    .default('sqlite:data/app.sqlite3')
    .refine(
      (value) => /^(sqlite:.+|(postgres|postgresql|mysql|mariadb):\/\/.+)$/.test(value),
      'DATABASE_URL must look like sqlite:path/to/file.sqlite3, postgres://user@host/db or mysql://user@host/db',
    ),
  SESSION_SECRETS: z.string().optional(),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'SESSION_COOKIE_NAME may use letters, digits, "_", "." and "-"')
    .optional(),
  SESSION_IDLE_MINUTES: integer('SESSION_IDLE_MINUTES', 1, 60 * 24 * 30, 30),
  SESSION_ABSOLUTE_HOURS: integer('SESSION_ABSOLUTE_HOURS', 1, 24 * 90, 12),
  SESSION_STORE: z.enum(['database', 'memory']).default('database'),
  SESSION_RECORD_IP: flag('SESSION_RECORD_IP', true),
  RECENT_AUTH_MINUTES: integer('RECENT_AUTH_MINUTES', 1, 24 * 60, 10),
  TRUST_PROXY: integer('TRUST_PROXY', 0, 10, 0),
  BCRYPT_COST: integer('BCRYPT_COST', 4, 15, 10),
  PASSWORD_MIN_LENGTH: integer('PASSWORD_MIN_LENGTH', 8, 64, 15),
  PASSWORD_MIN_SCORE: integer('PASSWORD_MIN_SCORE', 0, 4, 3),
  HISTORY_LENGTH: integer('HISTORY_LENGTH', 0, 50, 10),
  HISTORY_FOR_ANONYMOUS: flag('HISTORY_FOR_ANONYMOUS', false),
  THROTTLE_WINDOW_MINUTES: integer('THROTTLE_WINDOW_MINUTES', 1, 24 * 60, 15),
  LOGIN_FAILURES_PER_PAIR: integer('LOGIN_FAILURES_PER_PAIR', 1, 1000, 10),
  LOGIN_FAILURES_PER_ACCOUNT: integer('LOGIN_FAILURES_PER_ACCOUNT', 1, 100_000, 100),
  LOGIN_FAILURES_PER_IP: integer('LOGIN_FAILURES_PER_IP', 1, 100_000, 100),
  PASSWORD_CHECKS_PER_IP: integer('PASSWORD_CHECKS_PER_IP', 1, 1_000_000, 60),
  PASSWORD_CHECKS_PER_ACCOUNT: integer('PASSWORD_CHECKS_PER_ACCOUNT', 1, 1_000_000, 10),
  PASSWORD_CONFIRM_FAILURES: integer('PASSWORD_CONFIRM_FAILURES', 1, 1000, 10),
  SECOND_STEP_FAILURES_PER_ACCOUNT: integer('SECOND_STEP_FAILURES_PER_ACCOUNT', 1, 1000, 10),
  REGISTRATIONS_PER_IP: integer('REGISTRATIONS_PER_IP', 1, 100_000, 10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  MAIL_URL: z
    .string()
    .regex(
      /^smtps?:\/\/.+/,
      'MAIL_URL must look like smtp://user:password@host:587 or smtps://host:465',
    )
    .optional(),
  MAIL_FROM: z.string().min(3).default('Session Starter <no-reply@localhost>'),
  MAIL_OUTBOX_DIR: z.string().min(1).default('data/outbox'),
  PUBLIC_URL: z
    .url({ error: "PUBLIC_URL must be the site's address, like https://example.com" })
    .optional(),
  ALLOWED_HOSTS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine(
      (hosts) => hosts.every((host) => /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(host)),
      {
        error: 'ALLOWED_HOSTS must be host names without ports, separated by commas',
      },
    )
    .optional(),
  PASSWORD_RESET_MINUTES: integer('PASSWORD_RESET_MINUTES', 5, 24 * 60, 30),
  EMAIL_VERIFY_HOURS: integer('EMAIL_VERIFY_HOURS', 1, 24 * 14, 48),
  EMAIL_LINKS_PER_ADDRESS: integer('EMAIL_LINKS_PER_ADDRESS', 1, 1000, 3),
  EMAIL_LINKS_PER_IP: integer('EMAIL_LINKS_PER_IP', 1, 100_000, 20),
  DOCS_URL: z
    .url({ error: "DOCS_URL must be a URL (where this project's files can be read)" })
    .optional(),
});

export type Environment = z.input<typeof environmentSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly isProduction: boolean;
  /** Shown in page titles, and refused inside passwords. */
  readonly siteName: string;
  readonly host: string;
  /** Sent as X-Instance on every response, to see which instance answered behind a balancer. */
  readonly instanceName?: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly session: {
    /** The first signs new cookies; all of them verify, so a secret can be rotated out. */
    readonly secrets: readonly string[];
    /** True when the secret is public (the development default or an example value). */
    readonly publishedSecret: boolean;
    readonly cookieName: string;
    readonly idleMinutes: number;
    /** A session ends this long after login, however active. */
    readonly absoluteHours: number;
    readonly store: 'database' | 'memory';
    /** Keep the client's address in the session row, for the "Your sessions" page. */
    readonly recordIp: boolean;
    /** How long a password entry counts as recent, for sensitive actions (sudo mode). */
    readonly recentAuthMinutes: number;
  };
  /**
   * The names this site answers to (a Host header's name, without its port): PUBLIC_URL's host,
   * ALLOWED_HOSTS, and outside production localhost, 127.0.0.1 and [::1]. Any other is a 400.
   */
  readonly allowedHosts: readonly string[];
  readonly trustProxy: number;
  readonly bcryptCost: number;
  readonly passwordMinLength: number;
  /** The lowest zxcvbn score (0-4) a new password may have; 0 turns the estimate off. */
  readonly passwordMinScore: number;
  readonly historyLength: number;
  /** Record anonymous visitors' history too: costs a session row per visitor. */
  readonly historyForAnonymous: boolean;
  readonly throttle: {
    /** THROTTLE_WINDOW_MINUTES, the window the failure and registration limits count in. */
    readonly windowMinutes: number;
    /** Failed logins per (account, address) pair per window: the limit an attacker meets. */
    readonly loginFailuresPerPair: number;
    /** Failed logins per account per window, from anywhere: the last line. */
    readonly loginFailuresPerAccount: number;
    /** Failed logins per address per window, whatever the account. */
    readonly loginFailuresPerIp: number;
    /** Password checks, right or wrong, per address per minute. */
    readonly passwordChecksPerIp: number;
    /** Right passwords per account per minute (logins and confirmations). */
    readonly passwordChecksPerAccount: number;
    /** Wrong passwords per signed-in account per window (changing it, deleting the account). */
    readonly passwordConfirmFailures: number;
    /** Wrong second-step codes per account per window, across sign-ins and addresses. */
    readonly secondStepFailuresPerAccount: number;
    readonly registrationsPerIp: number;
  };
  readonly logLevel: string;
  /**
   * Where this project's files can be read on the web (a repository's file view, say): the
   * /session page links the sections of docs/sessions.md there.
   */
  readonly docsUrl?: string;
  readonly mail: {
    /** smtp:// or smtps:// server; unset: the development outbox, or no mail elsewhere. */
    readonly url?: string;
    readonly from: string;
    /** Where the development outbox writes each message (relative to the project root). */
    readonly outboxDir: string;
    /**
     * The site's own address, the only thing links in mail are built from: never the request's
     * Host or X-Forwarded-Host, which whoever sends the request chooses.
     */
    readonly publicUrl: string;
    readonly resetMinutes: number;
    readonly verifyHours: number;
    /** Links mailed (reset, verification) per e-mail address and per client, per window. */
    readonly linksPerAddress: number;
    readonly linksPerIp: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /**
   * The environment when NODE_ENV is unset: development from source (`npm run dev`), production
   * for the built server (`npm start`), so a deployment that forgets NODE_ENV does not run with
   * the published development secret and stack traces on error pages.
   */
  defaultEnv?: Config['env'];
}

/**
 * Turns environment variables into a validated, frozen config. Pure: tests pass a plain object.
 * Throws ConfigError listing every bad variable, so a misconfigured server never starts.
 */
export function loadConfig(
  source: Record<string, string | undefined>,
  { defaultEnv = 'development' }: LoadOptions = {},
): Config {
  const parsed = environmentSchema.safeParse(withoutEmptyValues(source));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    );
  }
  const env = { ...parsed.data, NODE_ENV: parsed.data.NODE_ENV ?? defaultEnv };
  const isProduction = env.NODE_ENV === 'production';
  const problems: string[] = [];

  const secrets = (env.SESSION_SECRETS ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  if (secrets.length === 0 && isProduction) {
    problems.push('SESSION_SECRETS is required in production (openssl rand -base64 48)');
  }
  if (!isProduction && secrets.length === 0) secrets.push(DEVELOPMENT_SECRET);
  // Anyone who knows the secret can sign a cookie for any session id they have seen.
  const publishedSecret = secrets.some((secret) => KNOWN_SECRETS.has(secret));
  if (publishedSecret && isProduction) {
    problems.push('SESSION_SECRETS contains a published example value; generate your own');
  }
  if (secrets.some((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES)) {
    problems.push(`SESSION_SECRETS: each secret must be at least ${MIN_SECRET_BYTES} bytes`);
  } else if (isProduction && !publishedSecret) {
    for (const [index, secret] of secrets.entries()) {
      const weakness = secretWeakness(secret);
      if (weakness) {
        problems.push(
          `SESSION_SECRETS: secret ${index + 1} is weak: it ${weakness} (openssl rand -base64 48)`,
        );
      }
    }
  }

  // `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so a sibling subdomain
  // cannot plant a session cookie. Secure cookies need https, hence the plain name in development.
  const cookieName = env.SESSION_COOKIE_NAME ?? (isProduction ? '__Host-sid' : 'sid');
  if (cookieName === 'connect.sid') {
    problems.push('SESSION_COOKIE_NAME must not be connect.sid: it announces express-session');
  } else if (isProduction && !cookieName.startsWith('__Host-')) {
    problems.push('SESSION_COOKIE_NAME must start with __Host- in production');
  } else if (!isProduction && cookieName.startsWith('__Host-')) {
    problems.push('SESSION_COOKIE_NAME: __Host- cookies need https; use it in production only');
  }

  // The site's own address: links in mail are built from it, and it names the one host the
  // site answers to (with ALLOWED_HOSTS). Without it a production site would have to trust
  // whatever Host a request names.
  if (isProduction && !env.PUBLIC_URL) {
    problems.push(
      "PUBLIC_URL is required in production: the site's own address (https://your.site); " +
        'requests for any other host are refused',
    );
  }

  if (isProduction && env.BCRYPT_COST < 10) {
    problems.push('BCRYPT_COST must be at least 10 in production');
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const publicUrl = (env.PUBLIC_URL ?? `http://${localHost(env.HOST)}:${env.PORT}`).replace(
    /\/+$/,
    '',
  );
  const allowedHosts = new Set([new URL(publicUrl).hostname, ...(env.ALLOWED_HOSTS ?? [])]);
  // A browser on the developer's own machine, under any of the names it goes by.
  if (!isProduction) for (const name of ['localhost', '127.0.0.1', '[::1]']) allowedHosts.add(name);

  return deepFreeze({
    env: env.NODE_ENV,
    isProduction,
    siteName: env.SITE_NAME,
    host: env.HOST,
    instanceName: env.INSTANCE_NAME,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    session: {
      secrets,
      publishedSecret,
      cookieName,
      idleMinutes: env.SESSION_IDLE_MINUTES,
      absoluteHours: env.SESSION_ABSOLUTE_HOURS,
      store: env.SESSION_STORE,
      recordIp: env.SESSION_RECORD_IP,
      recentAuthMinutes: env.RECENT_AUTH_MINUTES,
    },
    allowedHosts: [...allowedHosts],
    trustProxy: env.TRUST_PROXY,
    bcryptCost: env.BCRYPT_COST,
    passwordMinLength: env.PASSWORD_MIN_LENGTH,
    passwordMinScore: env.PASSWORD_MIN_SCORE,
    historyLength: env.HISTORY_LENGTH,
    historyForAnonymous: env.HISTORY_FOR_ANONYMOUS,
    throttle: {
      windowMinutes: env.THROTTLE_WINDOW_MINUTES,
      loginFailuresPerPair: env.LOGIN_FAILURES_PER_PAIR,
      loginFailuresPerAccount: env.LOGIN_FAILURES_PER_ACCOUNT,
      loginFailuresPerIp: env.LOGIN_FAILURES_PER_IP,
      passwordChecksPerIp: env.PASSWORD_CHECKS_PER_IP,
      passwordChecksPerAccount: env.PASSWORD_CHECKS_PER_ACCOUNT,
      passwordConfirmFailures: env.PASSWORD_CONFIRM_FAILURES,
      secondStepFailuresPerAccount: env.SECOND_STEP_FAILURES_PER_ACCOUNT,
      registrationsPerIp: env.REGISTRATIONS_PER_IP,
    },
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    docsUrl: env.DOCS_URL,
    mail: {
      url: env.MAIL_URL,
      from: env.MAIL_FROM,
      outboxDir: path.resolve(projectRoot, env.MAIL_OUTBOX_DIR),
      publicUrl,
      resetMinutes: env.PASSWORD_RESET_MINUTES,
      verifyHours: env.EMAIL_VERIFY_HOURS,
      linksPerAddress: env.EMAIL_LINKS_PER_ADDRESS,
      linksPerIp: env.EMAIL_LINKS_PER_IP,
    },
  });
}

/**
 * Reads `.env` (if present; real environment variables win) and validates the result. Without
 * NODE_ENV, the built server (dist/) is production and the source (tsx) is development.
 */
export function readConfig(): Config {
  dotenv.config({ quiet: true });
  return loadConfig(process.env, { defaultEnv: runningBuild ? 'production' : 'development' });
}

/**
 * Only DATABASE_URL, validated as readConfig() would: what the knex CLI needs (migrations run as
 * a release step, before the server's own settings, secrets among them, need to be there).
 */
export function readDatabaseUrl(): string {
  dotenv.config({ quiet: true });
  const parsed = environmentSchema
    .pick({ DATABASE_URL: true })
    .safeParse(withoutEmptyValues(process.env));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return parsed.data.DATABASE_URL;
}

/** Where a development server is reached: its HOST, or localhost when it listens everywhere. */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** `PORT=` in a .env file means "not set", as it does to a person reading the file. */
function withoutEmptyValues(source: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
