import { positionOf } from '../cursor.js';
import { storedMessageJson } from '../message.js';
import type { JsonPage, MessagePage } from './store.js';

/**
 * A page as the JSON text GET /messages sends its messages in (see storedMessageJson), without
 * an object per message on the way to the HTTP thread.
 */
export function jsonPageOf(page: MessagePage): JsonPage {
  const last = page.data.at(-1);
  return {
    json: `[${page.data.map(storedMessageJson).join(',')}]`,
    total: page.total,
    more: page.more,
    last: last === undefined ? null : positionOf(last),
  };
}
