-- What each message came with, besides the five fields of the contract:
--   source        'webhook' (POST /webhook) or 'whatsapp' (POST /webhooks/whatsapp)
--   type          the WhatsApp message type (text, image, reaction…); null for POST /webhook
--   contact_name  the sender's WhatsApp profile name, when the delivery named it
--   reply_to      the id of the message this one replies to (WhatsApp context.id)
--   received_at   the service's clock when it was stored, YYYY-MM-DDTHH:MM:SSZ; messages stored
--                 before this migration get their ts (to the second)
--   payload       the JSON text as received: the POST /webhook body, or the WhatsApp item
-- Text columns go through the same U+0000 escape as message_id and text (escape.ts).
ALTER TABLE messages
  ADD COLUMN source       text COLLATE "C" NOT NULL DEFAULT 'webhook'
                          CHECK (source IN ('webhook', 'whatsapp')),
  ADD COLUMN type         text COLLATE "C",
  ADD COLUMN contact_name text COLLATE "C",
  ADD COLUMN reply_to     text COLLATE "C",
  ADD COLUMN received_at  text COLLATE "C",
  ADD COLUMN payload      text;
UPDATE messages SET received_at = left(ts, 19) || 'Z';
ALTER TABLE messages ALTER COLUMN received_at SET NOT NULL;

-- Delivery statuses of the messages a business sent (WhatsApp value.statuses[]), once per
-- message and status. errors is a JSON array of {"code", "title"}.
CREATE TABLE statuses (
  message_id  text   COLLATE "C" NOT NULL,
  status      text   COLLATE "C" NOT NULL,
  ts          text   COLLATE "C" NOT NULL,
  ts_us       bigint NOT NULL,
  recipient   text   COLLATE "C" NOT NULL,
  errors      text   NOT NULL,
  category    text   COLLATE "C",
  received_at text   COLLATE "C" NOT NULL,
  PRIMARY KEY (message_id, status)
);

-- GET /statuses: ordered by instant, then message_id, then status
CREATE INDEX statuses_by_time ON statuses (ts_us, message_id, status);

-- Kept by every write that stores statuses, in its transaction, like the message totals:
--   status_counts   statuses stored per status word (GET /stats/statuses by_status, and the
--                   totals of GET /statuses)
--   failure_counts  failed statuses per error code, with the first title seen for the code
CREATE TABLE status_counts (
  status   text   COLLATE "C" NOT NULL PRIMARY KEY,
  statuses bigint NOT NULL
);

CREATE TABLE failure_counts (
  code     bigint NOT NULL PRIMARY KEY,
  title    text   COLLATE "C",
  failures bigint NOT NULL
);
CREATE INDEX failure_counts_by_failures ON failure_counts (failures DESC, code);
