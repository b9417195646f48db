-- Erasure tombstones: the ids of erased messages, never their content. An insert whose
-- message_id is listed here stores nothing (a redelivery is acknowledged as a duplicate).
CREATE TABLE erased_messages (
  message_id TEXT NOT NULL PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- messages.seq must never be reused once messages can be deleted: the search indexer takes
-- "seq > indexed_through" as the rows it has not seen. Deletes record here the highest seq they
-- removed; inserts number new rows above both it and the highest seq left.
CREATE TABLE message_seq (
  id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  floor INTEGER NOT NULL
) STRICT;
INSERT INTO message_seq (id, floor) SELECT 1, coalesce(max(seq), 0) FROM messages;

-- Retention sweeps take the messages and statuses received before a cut-off, oldest first.
CREATE INDEX messages_by_received ON messages (received_at);
CREATE INDEX statuses_by_received ON statuses (received_at);
