-- The search index again, now with contentless_delete=1: a deleting transaction (retention,
-- erasure) removes a row by its rowid alone (DELETE FROM messages_search WHERE rowid = ?), which
-- marks it in a small per-segment tombstone table. The 'delete' command of migration 002 needed
-- the row's text and wrote a delete entry for each of its trigrams, new index segments whose
-- automatic merges ran inside the deleting transactions, holding up every write behind them.
--
-- deletemerge = 0: a segment is never merged only because many of its rows are deleted (at the
-- default 10%, sweeping the oldest rows rewrote the largest segments, again inside deleting
-- transactions). Deleted rows' entries leave the index when their segment is merged anyway, as
-- new rows are indexed; until then a search skips them.
--
-- The new index starts empty: indexed_through = 0, so searches check every message directly
-- (exact, only slower) until the writer's idle-time indexer has filled it again.
DROP TABLE messages_search;
CREATE VIRTUAL TABLE messages_search USING fts5(
  text_folded, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO messages_search (messages_search, rank) VALUES ('deletemerge', 0);
UPDATE search_index SET indexed_through = 0 WHERE id = 1;
