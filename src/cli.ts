#!/usr/bin/env node
/**
 * webhook-receiver: sign and send webhooks; seed, export, erase and back up the database. `webhook-receiver help`
 * describes the commands; exit codes are 0 (success), 1 (failure) and 2 (usage error).
 */
import { Failure, HelpRequested, USAGE, UsageError } from './cli/usage.js';

/** Each command loads its own modules, so that `sign` does not load the database driver. */
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  sign: async (args) => (await import('./cli/sign.js')).runSign(args),
  send: async (args) => (await import('./cli/send.js')).runSend(args),
  seed: async (args) => (await import('./cli/seed.js')).runSeed(args),
  export: async (args) => (await import('./cli/keeping.js')).runExport(args),
  erase: async (args) => (await import('./cli/keeping.js')).runErase(args),
  backup: async (args) => (await import('./cli/keeping.js')).runBackup(args),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    const run = COMMANDS[command];
    if (run === undefined) {
      throw new UsageError(
        command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`,
      );
    }
    return await run(args);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`webhook-receiver: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const name = command === undefined ? 'webhook-receiver' : `webhook-receiver ${command}`;
    const message = error instanceof Failure ? error.message : String(error);
    process.stderr.write(`${name}: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
