-- Messages as sent, plus two derived columns the queries need:
--   ts_us        the instant named by ts, in microseconds since the Unix epoch (order and `since`)
--   text_folded  text with every code point lowercased one-to-one (case-insensitive `q` search)
-- message_id is the primary key: the database, not the application, decides what is a duplicate.
CREATE TABLE messages (
  message_id  TEXT    NOT NULL PRIMARY KEY,
  sender      TEXT    NOT NULL,
  recipient   TEXT    NOT NULL,
  ts          TEXT    NOT NULL,
  ts_us       INTEGER NOT NULL,
  text        TEXT,
  text_folded TEXT
) STRICT;

-- GET /messages without `from`: ordered by instant, then message_id (BINARY = code point order)
CREATE INDEX messages_by_time ON messages (ts_us, message_id);

-- GET /messages?from=…, and the per-sender counts of GET /stats
CREATE INDEX messages_by_sender ON messages (sender, ts_us, message_id);
