import { UsageError } from './usage.js';

/** Option values shared by `seed` and `send --whatsapp`. */

const MAX_COUNT = 99_999_999;

/** --count (or another option's N): a whole number from 0 to MAX_COUNT. */
export function parseCount(value: string, option = 'count'): number {
  const count = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!(count <= MAX_COUNT)) {
    throw new UsageError(
      `--${option} must be a whole number from 0 to ${MAX_COUNT}, not '${value}'`,
    );
  }
  return count;
}

/** --seed: the generator's seed, 1 to 64 characters from A-Z a-z 0-9 . _ - */
export function parseSeed(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new UsageError(
      `--seed must be 1 to 64 characters from A-Z a-z 0-9 . _ -, not '${value}'`,
    );
  }
  return value;
}
