-- Erasure tombstones: the ids of erased messages (escaped like messages.message_id), never
-- their content. An insert whose message_id is listed here stores nothing (a redelivery is
-- acknowledged as a duplicate).
CREATE TABLE erased_messages (
  message_id text COLLATE "C" NOT NULL PRIMARY KEY
);

-- Retention sweeps take the messages and statuses received before a cut-off, oldest first.
CREATE INDEX messages_by_received ON messages (received_at);
CREATE INDEX statuses_by_received ON statuses (received_at);
