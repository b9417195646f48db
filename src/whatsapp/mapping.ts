/**
 * What is stored from one WhatsApp `messages[]` item besides its id and timestamp: the words a
 * person would search for (`text`), the sender, the replied-to id. Pure functions over the item
 * as parsed; a field of an unexpected shape reads as absent, never as an error.
 */

type Item = Record<string, unknown>;

export function isObject(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A non-empty string at `path`, or null. */
function words(value: unknown, ...path: string[]): string | null {
  const found = field(value, ...path);
  return typeof found === 'string' && found !== '' ? found : null;
}

/**
 * The searchable text of a message, by type: text.body; the caption of an image, video or
 * document (else a document's filename); the reaction's emoji (null when it was removed); the
 * title of an interactive button or list reply; a template button's text; a location's name
 * and address; a system message's body. Any other type (audio, sticker, contacts, unknown): null.
 */
export function textOf(item: Item): string | null {
  const type = item.type;
  switch (type) {
    case 'text':
      return words(item, 'text', 'body');
    case 'image':
    case 'video':
      return words(item, type, 'caption');
    case 'document':
      return words(item, 'document', 'caption') ?? words(item, 'document', 'filename');
    case 'reaction':
      return words(item, 'reaction', 'emoji');
    case 'interactive':
      return (
        words(item, 'interactive', 'button_reply', 'title') ??
        words(item, 'interactive', 'list_reply', 'title')
      );
    case 'button':
      return words(item, 'button', 'text');
    case 'location': {
      const parts = [words(item, 'location', 'name'), words(item, 'location', 'address')];
      const present = parts.filter((part): part is string => part !== null);
      return present.length === 0 ? null : present.join(', ');
    }
    case 'system':
      return words(item, 'system', 'body');
    default:
      return null;
  }
}

const DIGITS = /^[0-9]+$/;

/**
 * How a WhatsApp user shows as `from` or `recipient`: `+` and the digits of their phone number
 * when Meta sends one; else their business-scoped user id (BSUID, such as
 * `BR.1502576394655843`) as is, for a user with a username whose number is withheld; else
 * null.
 */
export function userOf(phone: unknown, userId: unknown): string | null {
  if (typeof phone === 'string' && DIGITS.test(phone)) return `+${phone}`;
  if (typeof userId === 'string' && userId !== '') return userId;
  if (typeof phone === 'string' && phone !== '') return phone;
  return null;
}

/** The profile name of the `contacts[]` entry whose wa_id (or user_id) is the sender's. */
export function contactNameOf(contacts: unknown, item: Item): string | null {
  return contactNames(contacts)(item);
}

/**
 * contactNameOf for every message of one change: the `contacts[]` entries are looked up by
 * wa_id and user_id (the first entry of each wins, as a scan in order would find it) instead of
 * scanned once per message.
 */
export function contactNames(contacts: unknown): (item: Item) => string | null {
  if (!Array.isArray(contacts) || contacts.length === 0) return () => null;
  const byPhone = new Map<unknown, number>();
  const byUser = new Map<unknown, number>();
  for (const [i, contact] of contacts.entries()) {
    if (!isObject(contact)) continue;
    if (!byPhone.has(contact.wa_id)) byPhone.set(contact.wa_id, i);
    if (!byUser.has(contact.user_id)) byUser.set(contact.user_id, i);
  }
  return (item) => {
    const phone = typeof item.from === 'string' && item.from !== '' ? item.from : null;
    const userId =
      typeof item.from_user_id === 'string' && item.from_user_id !== '' ? item.from_user_id : null;
    const first = Math.min(
      phone === null ? Number.POSITIVE_INFINITY : (byPhone.get(phone) ?? Number.POSITIVE_INFINITY),
      userId === null ? Number.POSITIVE_INFINITY : (byUser.get(userId) ?? Number.POSITIVE_INFINITY),
    );
    return first === Number.POSITIVE_INFINITY ? null : words(contacts[first], 'profile', 'name');
  };
}

/** The id of the message this one replies to (`context.id`). */
export function replyToOf(item: Item): string | null {
  return words(item, 'context', 'id');
}

/** `+` and the digits of the business number the delivery was sent to. */
export function businessNumberOf(value: Item): string | null {
  const display = field(value, 'metadata', 'display_phone_number');
  if (typeof display !== 'string') return null;
  const digits = display.replace(/[^0-9]/g, '');
  return digits === '' ? null : `+${digits}`;
}

/** The pricing category of a status (`pricing.category`), or null. */
export function categoryOf(status: Item): string | null {
  return words(status, 'pricing', 'category');
}

/** A status's errors as {code, title}: codes as the JSON integers Meta sends, else null. */
export function errorsOf(status: Item): { code: number | null; title: string | null }[] {
  if (!Array.isArray(status.errors)) return [];
  return status.errors.filter(isObject).map((error) => ({
    code: Number.isSafeInteger(error.code) ? (error.code as number) : null,
    title: typeof error.title === 'string' ? error.title : null,
  }));
}
