import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What `help` prints, and what a usage error prints on standard error. */
export const USAGE = `Usage: webhook-receiver <command> [options]

Commands:
  sign [--secret S] [FILE]
      Print the hex HMAC-SHA256 signature of FILE's exact bytes (standard input when FILE is
      omitted or -), as the service expects it in X-Signature.

  sign --standard [--secret K] [--id ID] [--timestamp T] [FILE]
      Print the three Standard Webhooks headers for FILE's exact bytes, one "name: value" line
      each: webhook-id (--id, default a random msg_...), webhook-timestamp (--timestamp, unix
      seconds, default now) and webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>).

  sign --whatsapp [--secret S] [FILE]
      Print the X-Hub-Signature-256 header line for FILE's exact bytes, as Meta sends it:
      "X-Hub-Signature-256: sha256=<hex HMAC-SHA256>", keyed with the WhatsApp app secret.

  send [--standard] [--url URL] [--secret S] [FILE]
  send [--standard] [--url URL] [--secret S] --from E164 --to E164 [--id ID] [--ts TS] [--text T]
      Sign a message and POST it to URL/webhook as application/json; print the HTTP status
      and the response body. The message is FILE's exact bytes (standard input when FILE is -,
      or when neither FILE nor a message option is given), or is built from the options:
      --id defaults to a random UUID, --ts to the current time (YYYY-MM-DDTHH:MM:SSZ), and
      without --text the message has no text. With --standard it is signed with the three
      Standard Webhooks headers (a random webhook-id, the current time) instead of X-Signature.

  send --whatsapp [--url URL] [--secret S] [--batch N] --count N [--seed S]
  send --whatsapp [--url URL] [--secret S] [--batch N] FILE
  send --whatsapp [--url URL] [--secret S] --from E164 --to E164 [--id ID] [--ts TS] [--text T]
      Send messages to URL/webhooks/whatsapp as Meta's WhatsApp Cloud API does: in
      whatsapp_business_account envelopes of N messages each (--batch, 1 to 1000, default 100;
      one change per business number, the "to"), non-ASCII escaped as \\uXXXX and / as \\/,
      each delivery signed with X-Hub-Signature-256. The messages are generated (--count, as
      seed --count), read from a JSON Lines file (as seed --file; invalid lines are skipped
      and reported), or built from the options. A message with text becomes a "text" item,
      one without a "sticker". Deliveries go one at a time; a refused one is printed with its
      status and answer, and a summary line ends the output.

  seed --count N [--seed S] [--whatsapp] [--database-url URL]
  seed --file FILE [--database-url URL]
  seed --statuses N [--seed S] [--database-url URL]
      Store messages straight into the database, without HTTP; a message_id already stored
      is counted as a duplicate and left unchanged. --count generates N messages, the same
      ones for the same --seed (default 1), with ids seed<S>-00000001, seed<S>-00000002, ...
      --file reads one JSON message per line (- for standard input), checked with the
      webhook's rules: invalid lines are skipped and reported, blank lines ignored.
      --whatsapp stores the generated messages as WhatsApp deliveries would (source whatsapp,
      type, contact name, payload). --statuses N stores the delivery statuses of N messages
      the business sent (ids out<S>-00000001, ...): each sent, then mostly delivered and read,
      or failed with one of Meta's error codes; the counts are of statuses.

  export [--format ndjson|csv] [--from E164] [--since TS] [--q TEXT] [--output FILE]
         [--database-url URL]
      Write every message matching the filters, in GET /messages order, as GET
      /messages/export does: NDJSON (default) or CSV (RFC 4180, header row, cells verbatim).
      To FILE (written as FILE.partial, renamed when complete) or standard output; a
      progress bar on a terminal.

  erase (--from E164 | --id ID) [--database-url URL]
      Erase every message of a sender, or one message, as DELETE /messages does: the rows
      and their share of every total go, and each id keeps a tombstone (the id alone) so
      that a redelivery stores nothing.

  backup FILE [--database-url URL]
      Copy the SQLite database to FILE through SQLite's online backup, consistent while the
      service keeps writing; the copy is checked with integrity_check. FILE must not exist.
      PostgreSQL: use pg_dump (see the README).

  help
      Print this text (also --help, -h, or no arguments).

Options:
  --secret S          HMAC key; default $WEBHOOK_SECRET. With --standard, the whsec_ key;
                      default $STANDARD_WEBHOOKS_SECRET. With --whatsapp, the app secret;
                      default $WHATSAPP_APP_SECRET. Prefer the variables: command-line
                      arguments are visible to other users of the machine.
  --standard          sign with Standard Webhooks (webhook-id, webhook-timestamp,
                      webhook-signature) instead of X-Signature
  --whatsapp          as Meta's WhatsApp Cloud API: X-Hub-Signature-256, and (send) envelopes
                      to /webhooks/whatsapp; seed: stored as WhatsApp messages
  --batch N           send --whatsapp: messages per delivery, 1 to 1000; default 100
  --id ID             sign --standard: the webhook-id, 1 to 256 printable ASCII characters
                      without spaces; send: the message_id
  --timestamp T       sign --standard: the webhook-timestamp, whole unix seconds
  --url URL           where the service listens; default $WEBHOOK_URL, else
                      http://127.0.0.1:8000
  --count N           how many messages to generate (0 to 99999999; seed, send --whatsapp)
  --seed S            1 to 64 characters from A-Z a-z 0-9 . _ -; default 1
  --file FILE         a JSON Lines file, or - for standard input
  --database-url URL  the database, as the service's DATABASE_URL: sqlite:///relative/path,
                      sqlite:////absolute/path; default $DATABASE_URL, else
                      sqlite:///./data/app.db

Environment:
  WEBHOOK_SECRET      the HMAC key (sign, send)
  STANDARD_WEBHOOKS_SECRET
                      the whsec_ key (sign --standard, send --standard)
  WHATSAPP_APP_SECRET the Meta app secret (sign --whatsapp, send --whatsapp)
  WEBHOOK_URL         the service's base URL (send)
  DATABASE_URL        the database (seed, export, erase, backup)
  An empty variable counts as unset.

Exit codes:
  0  success (send: the service answered 2xx, to every delivery with --whatsapp)
  1  failure: send got another status or could not connect; seed or send --whatsapp skipped
     invalid lines; seed's database failed; a file could not be read or written; a backup
     failed its check
  2  usage error: unknown command or option, a missing or malformed value, no secret or
     a malformed whsec_ key
`;

/** The command line is wrong: the CLI prints the message and the usage text, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and failed: the CLI prints the message and exits 1. */
export class Failure extends Error {
  override name = 'Failure';
}

/** `--help` or `-h` among a command's options: the CLI prints the usage text and exits 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
}

/**
 * parseArgs in strict mode, with its errors turned into UsageErrors; `--help` or `-h` before
 * any `--` throws HelpRequested.
 */
export function parse<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  maxPositionals: number,
) {
  const end = args.indexOf('--');
  const flags = end === -1 ? args : args.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) throw new HelpRequested();
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return parsed;
}

/** A variable's value, with an empty one counting as unset (as for the service). */
export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The HMAC key from --secret or WEBHOOK_SECRET. */
export function secretFrom(option: string | undefined): string {
  const secret = option !== undefined && option !== '' ? option : env('WEBHOOK_SECRET');
  if (secret === undefined)
    throw new UsageError('no secret: pass --secret S or set WEBHOOK_SECRET');
  return secret;
}
