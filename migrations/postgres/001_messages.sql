-- Messages as sent, plus two derived columns the queries need:
--   ts_us        the instant named by ts, in microseconds since the Unix epoch (order and `since`)
--   text_folded  text with every code point lowercased one-to-one (case-insensitive `q` search)
-- message_id is the primary key: the database, not the application, decides what is a duplicate,
-- whichever process the write comes from.
-- COLLATE "C" compares by code point (UTF-8 bytes), as the contract orders message_id, whatever
-- the database's default collation is.
-- message_id, text and text_folded are stored through an order-preserving escape of U+0000 and
-- U+0001 (see src/store/postgres/escape.ts), because PostgreSQL text cannot hold U+0000.
CREATE TABLE messages (
  message_id  text   COLLATE "C" NOT NULL PRIMARY KEY,
  sender      text   COLLATE "C" NOT NULL,
  recipient   text   COLLATE "C" NOT NULL,
  ts          text   COLLATE "C" NOT NULL,
  ts_us       bigint NOT NULL,
  text        text   COLLATE "C",
  text_folded text   COLLATE "C"
);

-- GET /messages without `from`, keyset pages, and first/last of GET /stats
CREATE INDEX messages_by_time ON messages (ts_us, message_id);

-- GET /messages?from=…, and the per-sender counts of GET /stats
CREATE INDEX messages_by_sender ON messages (sender, ts_us, message_id);
