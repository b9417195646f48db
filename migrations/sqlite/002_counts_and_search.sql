-- messages gets an explicit integer key, `seq`: the search index refers to rows by it, and
-- unlike an implicit rowid it survives VACUUM. It grows with every insert (messages are never
-- deleted), so "the rows after seq N" is the part of the table the search index has not seen.
CREATE TABLE messages_new (
  seq         INTEGER NOT NULL PRIMARY KEY,
  message_id  TEXT    NOT NULL UNIQUE,
  sender      TEXT    NOT NULL,
  recipient   TEXT    NOT NULL,
  ts          TEXT    NOT NULL,
  ts_us       INTEGER NOT NULL,
  text        TEXT,
  text_folded TEXT
) STRICT;
INSERT INTO messages_new (message_id, sender, recipient, ts, ts_us, text, text_folded)
  SELECT message_id, sender, recipient, ts, ts_us, text, text_folded FROM messages ORDER BY rowid;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_time ON messages (ts_us, message_id);
CREATE INDEX messages_by_sender ON messages (sender, ts_us, message_id);

-- Totals kept up to date by every insert batch (in its transaction), so that GET /stats and the
-- `total` of GET /messages never count a million rows:
--   message_totals  every message and every distinct sender
--   sender_counts   messages per sender (`from` totals, the top senders of /stats)
--   hour_counts     messages per UTC hour of ts (`since` totals: whole hours after it, plus
--                   an index range over the part of its own hour)
CREATE TABLE message_totals (
  id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  messages INTEGER NOT NULL,
  senders  INTEGER NOT NULL
) STRICT;
INSERT INTO message_totals (id, messages, senders)
  SELECT 1, count(*), count(DISTINCT sender) FROM messages;

CREATE TABLE sender_counts (
  sender   TEXT    NOT NULL PRIMARY KEY,
  messages INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO sender_counts (sender, messages) SELECT sender, count(*) FROM messages GROUP BY sender;
CREATE INDEX sender_counts_by_messages ON sender_counts (messages DESC, sender);

-- hour: floor(ts_us / 3600e6), also for instants before 1970
CREATE TABLE hour_counts (
  hour     INTEGER NOT NULL PRIMARY KEY,
  messages INTEGER NOT NULL
) STRICT;
INSERT INTO hour_counts (hour, messages)
  SELECT ts_us / 3600000000 - (ts_us < 0 AND ts_us % 3600000000 != 0), count(*)
  FROM messages GROUP BY 1;

-- Substring search (`q`): a trigram index over text_folded, so a search never scans the table.
-- Contentless: it holds only the index; its rowid is messages.seq. It is filled
-- behind the write path (see search_index), so indexing never slows an acknowledgement.
CREATE VIRTUAL TABLE messages_search USING fts5(
  text_folded, content = '', tokenize = 'trigram case_sensitive 1'
);

-- Every message with seq <= indexed_through is in messages_search; searches scan the few rows
-- after it directly.
CREATE TABLE search_index (
  id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  indexed_through  INTEGER NOT NULL
) STRICT;
INSERT INTO search_index (id, indexed_through) VALUES (1, 0);
