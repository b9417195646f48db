import { positionOf } from '../cursor.js';
import type { JsonPage, MessagePage, StoredMessage } from './store.js';

/**
 * A page as the JSON text GET /messages sends, written by hand: the five fields in the order of
 * StoredMessageSchema, each value through JSON.stringify, so the bytes are those the response
 * schema's serializer writes, without an object per message on the way.
 */
export function jsonPageOf(page: MessagePage): JsonPage {
  const last = page.data.at(-1);
  return {
    json: `[${page.data.map(messageJson).join(',')}]`,
    total: page.total,
    more: page.more,
    last: last === undefined ? null : positionOf(last),
  };
}

function messageJson(m: StoredMessage): string {
  const text = m.text === null ? 'null' : JSON.stringify(m.text);
  return (
    `{"message_id":${JSON.stringify(m.message_id)},"from":${JSON.stringify(m.from)},` +
    `"to":${JSON.stringify(m.to)},"ts":${JSON.stringify(m.ts)},"text":${text}}`
  );
}
