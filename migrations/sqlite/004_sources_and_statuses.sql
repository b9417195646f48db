-- What each message came with, besides the five fields of the contract:
--   source        'webhook' (POST /webhook) or 'whatsapp' (POST /webhooks/whatsapp)
--   type          the WhatsApp message type (text, image, reaction…); null for POST /webhook
--   contact_name  the sender's WhatsApp profile name, when the delivery named it
--   reply_to      the id of the message this one replies to (WhatsApp context.id)
--   received_at   the service's clock when it was stored, YYYY-MM-DDTHH:MM:SSZ; messages stored
--                 before this migration get their ts (to the second)
--   payload       the JSON text as received: the POST /webhook body, or the WhatsApp item
ALTER TABLE messages ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook'
  CHECK (source IN ('webhook', 'whatsapp'));
ALTER TABLE messages ADD COLUMN type TEXT;
ALTER TABLE messages ADD COLUMN contact_name TEXT;
ALTER TABLE messages ADD COLUMN reply_to TEXT;
ALTER TABLE messages ADD COLUMN received_at TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN payload TEXT;
UPDATE messages SET received_at = substr(ts, 1, 19) || 'Z';

-- Delivery statuses of the messages a business sent (WhatsApp value.statuses[]), once per
-- message and status. errors is a JSON array of {"code", "title"}.
CREATE TABLE statuses (
  message_id  TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  ts          TEXT    NOT NULL,
  ts_us       INTEGER NOT NULL,
  recipient   TEXT    NOT NULL,
  errors      TEXT    NOT NULL,
  category    TEXT,
  received_at TEXT    NOT NULL,
  PRIMARY KEY (message_id, status)
) STRICT;

-- GET /statuses: ordered by instant, then message_id, then status
CREATE INDEX statuses_by_time ON statuses (ts_us, message_id, status);

-- Kept by every write that stores statuses, in its transaction, like the message totals:
--   status_counts   statuses stored per status word (GET /stats/statuses by_status, and the
--                   totals of GET /statuses)
--   failure_counts  failed statuses per error code, with the first title seen for the code
CREATE TABLE status_counts (
  status   TEXT    NOT NULL PRIMARY KEY,
  statuses INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE failure_counts (
  code     INTEGER NOT NULL PRIMARY KEY,
  title    TEXT,
  failures INTEGER NOT NULL
) STRICT;
CREATE INDEX failure_counts_by_failures ON failure_counts (failures DESC, code);
