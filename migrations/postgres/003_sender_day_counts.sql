-- Messages per sender and UTC day of ts, kept by every insert statement like the other totals, so
-- that the `total` of GET /messages?from=…&since=… is the days after `since` plus an index range
-- over the rest of its day, whichever sender it is.
-- day: floor(ts_us / 86400e6), also for instants before 1970
CREATE TABLE sender_day_counts (
  sender   text   COLLATE "C" NOT NULL,
  day      bigint NOT NULL,
  messages bigint NOT NULL,
  PRIMARY KEY (sender, day)
);
INSERT INTO sender_day_counts (sender, day, messages)
  SELECT sender, floor(ts_us::numeric / 86400000000)::bigint, count(*) FROM messages GROUP BY 1, 2;
