-- A counter that every transaction deleting messages increments (see src/store/postgres/epoch.ts).
-- A search total kept by a process (src/store/count-cache.ts) is topped up with newer rows only
-- while the counter still holds the value it was counted at; any deletion makes it count again.
CREATE TABLE change_epoch (
  id     integer NOT NULL PRIMARY KEY CHECK (id = 1),
  epoch  bigint  NOT NULL
);
INSERT INTO change_epoch (id, epoch) VALUES (1, 0);

-- The transaction that inserted each row (64-bit, never wraps). A kept total remembers the
-- snapshot it was counted in; the rows it has not seen are exactly those whose txid that
-- snapshot does not see, whatever order concurrent transactions commit in, and all of them have
-- txid >= the snapshot's xmin (an index range over recent rows). Rows stored before this
-- migration have no txid: every snapshot a kept total can have sees them.
ALTER TABLE messages ADD COLUMN txid xid8;
ALTER TABLE messages ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX messages_by_txid ON messages (txid);
