-- Messages per sender and UTC day of ts, kept by every insert batch like the other totals, so that
-- the `total` of GET /messages?from=…&since=… is the days after `since` plus an index range over
-- the rest of its day, whichever sender it is (counting a busy sender's index range is too slow).
-- day: floor(ts_us / 86400e6), also for instants before 1970
CREATE TABLE sender_day_counts (
  sender   TEXT    NOT NULL,
  day      INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (sender, day)
) STRICT, WITHOUT ROWID;
INSERT INTO sender_day_counts (sender, day, messages)
  SELECT sender, ts_us / 86400000000 - (ts_us < 0 AND ts_us % 86400000000 != 0), count(*)
  FROM messages GROUP BY 1, 2;
