import { safeKey } from '../storage/tables';

/**
 * Row layout of the `history` table (one partition per caller: `user:<id>` or `sip:<number>`):
 *
 *   i_<invStart>_<sessionId>_<itemId>   one transcript item
 *   s_<sessionId>                       session marker: remembers the session's start time
 *   r_<agentId>                         rolling summary of earlier sessions with that agent
 *
 * Why this item key: rows must come back in time order AND re-appending an item id must stay one row even
 * when the caller computes a different `at` the second time (a retry after a worker reattach does). A key
 * built from the item's own `at` cannot give both. The key is instead built from the *session's* start time
 * (fixed once, by the session marker) plus the item id: the same item of the same session always lands on
 * the same row, sessions are ordered by start, and items inside a session are ordered by their `at`
 * property when read (a session is read whole). The start is inverted (MAX - startAt) so the newest session
 * comes first: `recent()` reads from the front of the partition and stops early instead of scanning it all.
 */
export const ITEM_PREFIX = 'i_';
export const SESSION_PREFIX = 's_';
export const SUMMARY_PREFIX = 'r_';
/** The character after `_`: `RowKey lt '<p>`'` ends a prefix range. */
const AFTER_UNDERSCORE = '`';

const MAX_MS = 9_999_999_999_999;

export const partitionKey = (partition: string) => safeKey(partition);

export const invertedStart = (startAt: number) =>
  String(MAX_MS - Math.max(0, Math.min(MAX_MS, Math.floor(startAt)))).padStart(13, '0');

export const sessionPrefix = (startAt: number, sessionId: string) =>
  `${ITEM_PREFIX}${invertedStart(startAt)}_${safeKey(sessionId)}_`;

export const itemRowKey = (startAt: number, sessionId: string, itemId: string) =>
  `${sessionPrefix(startAt, sessionId)}${safeKey(itemId)}`;

export const sessionRowKey = (sessionId: string) => `${SESSION_PREFIX}${safeKey(sessionId)}`;
export const summaryRowKey = (agentId: string) => `${SUMMARY_PREFIX}${safeKey(agentId)}`;

/** [ge, lt) bounds of every row key starting with `prefix` (prefix must end with `_`). */
export function prefixRange(prefix: string): { ge: string; lt: string } {
  if (!prefix.endsWith('_')) throw new Error('prefix must end with _');
  return { ge: prefix, lt: prefix.slice(0, -1) + AFTER_UNDERSCORE };
}
