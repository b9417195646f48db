import { type DestinationStream, type LoggerOptions, pino } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Every line the process prints is one JSON object: `ts` (ISO-8601 UTC), `level` as a word
 * (DEBUG, INFO, WARNING, ERROR), then the fields of the event. No pid or hostname.
 */

const LEVEL_WORDS: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'ERROR',
};

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: {
      level: (label) => ({ level: LEVEL_WORDS[label] ?? label.toUpperCase() }),
    },
  };
}

export type Logger = pino.Logger;

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(loggerOptions(level), destination ?? pino.destination({ fd: 1, sync: true }));
}
