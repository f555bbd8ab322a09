import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** JSON lines on stdout: what log collectors read, and what a test can capture. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel });
}
