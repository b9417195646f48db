/**
 * What the page tests store: webhook messages over 20 days from four senders (a few with the
 * word "needle"), texts meant to break a page, and one WhatsApp delivery with a contact name,
 * a reply and statuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelope } from '../harness/whatsapp.js';

export const SECRET = 'page-test-secret';
export const APP_SECRET = 'page-test-app-secret';

export const SENDERS = ['+14155550100', '+14155550101', '+14155550102', '+14155550103'];

export interface Sent {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text?: string | null;
}

/** `count` messages, one every 3 hours from 2025-01-01, the newest last. */
export function ordinary(count: number): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    message_id: `m${String(i).padStart(4, '0')}`,
    from: SENDERS[i % SENDERS.length] as string,
    to: '+14155559999',
    ts: new Date(Date.UTC(2025, 0, 1, 3 * i)).toISOString().replace('.000Z', 'Z'),
    text: i % 17 === 5 ? `a NEEDLE in the hay ${i}\nsecond line ${i}` : `hello ${i}\nsecond line`,
  }));
}

export const HOSTILE_SENDER = '+15550006666';

/** Texts that must show as text: markup, a script link, a bidi override, 4096 emoji. */
export function hostile(): Sent[] {
  const texts = [
    '<script>window.__pwned = 1</script>',
    '<img src=x onerror="window.__pwned = 2">',
    'javascript:window.__pwned = 3',
    '\u202Eevil right-to-left override\u202C and after',
    '😀'.repeat(4096),
  ];
  return texts.map((text, i) => ({
    message_id: `h${i}`,
    from: HOSTILE_SENDER,
    to: '+14155559999',
    ts: `2025-03-01T00:0${i}:00Z`,
    text,
  }));
}

/** One WhatsApp delivery: a message, a reply to it (with the sender's name) and statuses. */
export function whatsappDelivery(): object {
  const at = String(Date.UTC(2025, 2, 2) / 1000);
  return envelope(
    [
      {
        from: '447700900123',
        id: 'wamid.first',
        timestamp: at,
        type: 'text',
        text: { body: 'Hi' },
      },
      {
        from: '447700900123',
        id: 'wamid.reply',
        timestamp: String(Number(at) + 60),
        type: 'text',
        text: { body: 'Is my order <b>ready</b>?' },
        context: { from: '15557850142', id: 'wamid.first' },
      },
    ],
    [
      { id: 'wamid.out1', status: 'sent', timestamp: at, recipient_id: '447700900123' },
      { id: 'wamid.out1', status: 'delivered', timestamp: at, recipient_id: '447700900123' },
      { id: 'wamid.out1', status: 'read', timestamp: at, recipient_id: '447700900123' },
      {
        id: 'wamid.out2',
        status: 'failed',
        timestamp: at,
        recipient_id: '447700900123',
        errors: [{ code: 131047, title: 'Re-engagement message' }],
      },
    ],
    { contacts: [{ profile: { name: 'Ada Lovelace' }, wa_id: '447700900123' }] },
  );
}

export function tempDatabase(): { url: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-page-'));
  return {
    url: `sqlite:///${join(dir, 'app.db')}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
