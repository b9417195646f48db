-- Totals kept up to date by every insert statement (in its transaction), so that GET /stats and
-- the `total` of GET /messages never count a million rows:
--   message_totals  every message and every distinct sender
--   sender_counts   messages per sender (`from` totals, the top senders of /stats)
--   hour_counts     messages per UTC hour of ts (`since` totals: whole hours after it, plus
--                   an index range over the part of its own hour)
CREATE TABLE message_totals (
  id       integer NOT NULL PRIMARY KEY CHECK (id = 1),
  messages bigint  NOT NULL,
  senders  bigint  NOT NULL
);
INSERT INTO message_totals (id, messages, senders)
  SELECT 1, count(*), count(DISTINCT sender) FROM messages;

CREATE TABLE sender_counts (
  sender   text   COLLATE "C" NOT NULL PRIMARY KEY,
  messages bigint NOT NULL
);
INSERT INTO sender_counts (sender, messages) SELECT sender, count(*) FROM messages GROUP BY sender;
CREATE INDEX sender_counts_by_messages ON sender_counts (messages DESC, sender);

-- hour: floor(ts_us / 3600e6), also for instants before 1970
CREATE TABLE hour_counts (
  hour     bigint NOT NULL PRIMARY KEY,
  messages bigint NOT NULL
);
INSERT INTO hour_counts (hour, messages)
  SELECT floor(ts_us::numeric / 3600000000)::bigint, count(*) FROM messages GROUP BY 1;

-- Substring search (`q`): a trigram index, so that `text_folded LIKE '%…%'` (with %, _ and \
-- escaped) finds the candidate rows without scanning the table. pg_trgm ships with PostgreSQL
-- and is a trusted extension: a user who may create objects in the database may create it.
-- The operator class is named with the schema the extension lives in, which need not be on this
-- connection's search_path (an extension is installed once per database).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$
DECLARE
  home text := (SELECT n.nspname FROM pg_extension AS e
                JOIN pg_namespace AS n ON n.oid = e.extnamespace
                WHERE e.extname = 'pg_trgm');
BEGIN
  EXECUTE format(
    'CREATE INDEX messages_text_trigrams ON messages USING gin (text_folded %I.gin_trgm_ops)',
    home);
END
$$;
