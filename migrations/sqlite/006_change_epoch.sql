-- A counter that every transaction deleting messages increments (see src/store/sqlite/epoch.ts).
-- A search total kept by a reader (src/store/count-cache.ts) is topped up with newer rows only
-- while the counter still holds the value it was counted at; any deletion makes it count again.
-- The watermark of a kept total is messages.seq, which only grows while no row is deleted.
CREATE TABLE change_epoch (
  id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  epoch  INTEGER NOT NULL
) STRICT;
INSERT INTO change_epoch (id, epoch) VALUES (1, 0);
