import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * SQL in database errors carries its bound values: session ids, password hashes, usernames. Every
 * quoted literal is blanked before an error is logged.
 */
function scrubSql(text: string | undefined): string | undefined {
  return text?.replace(/'(?:[^']|'')*'/g, "'…'");
}

/** The fields of an error that say what went wrong without carrying any of the data. */
const ERROR_FIELDS = ['type', 'name', 'code', 'errno', 'sqlState', 'severity', 'routine'];

/**
 * A serialized error with its message and stack scrubbed of SQL literals, and nothing else:
 * drivers attach the query with its values inlined (mysql2's `sql`) or the offending values
 * (PostgreSQL's `detail`: "Key (username)=(alice) already exists"), so only known-safe fields
 * are kept.
 */
export function scrubError(serialized: { message?: string; stack?: string }): object {
  const fields = serialized as Record<string, unknown>;
  const kept = ERROR_FIELDS.filter((key) => key in fields).map((key) => [key, fields[key]]);
  return {
    ...Object.fromEntries(kept),
    message: scrubSql(serialized.message),
    stack: scrubSql(serialized.stack),
  };
}

function serializeError(error: unknown) {
  return scrubError(pino.stdSerializers.err(error as Error));
}

/**
 * JSON lines on stdout: what log collectors read, and what a test can capture. Request logs carry
 * no headers or bodies at all (see request-logger.ts), so cookies, session ids, CSRF tokens and
 * passwords have no way in; the paths below are a second line for anything logged by hand.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'env'>>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      // Development reads better as pino-pretty's coloured lines; anything else stays JSON.
      transport: !destination && config.env === 'development' ? prettyTransport() : undefined,
      level: config.logLevel,
      serializers: { err: serializeError },
      redact: {
        paths: [
          'password',
          '*.password',
          'cookie',
          '*.cookie',
          '*.headers.cookie',
          '*.headers["set-cookie"]',
          '_csrf',
          '*._csrf',
          'sid',
          '*.sid',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * pino-pretty in a worker thread (pino's transport), if it is installed: it is a development
 * dependency, so an install without them (`npm ci --omit=dev`) logs JSON even in development.
 */
function prettyTransport() {
  try {
    require.resolve('pino-pretty');
  } catch {
    return undefined;
  }
  return {
    target: 'pino-pretty',
    options: {
      colorize: true,
      translateTime: 'SYS:HH:MM:ss',
      // A request on one line: "request completed GET /login → 200 in 4 ms".
      messageFormat:
        '{msg}{if req.method} {req.method} {req.path}{end}' +
        '{if res.statusCode} → {res.statusCode}{end}{if responseTime} in {responseTime} ms{end}',
      ignore: 'pid,hostname,req,res,responseTime',
    },
  };
}
