-- Catalogue management: every write gives an item the next revision, so
-- recall, filter and the gateway follow changes (ItemChanges) by revision.
CREATE SEQUENCE item_rev;
ALTER TABLE items
    ADD COLUMN tags       TEXT[]      NOT NULL DEFAULT '{}',
    ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN retired_at TIMESTAMPTZ,
    ADD COLUMN rev        BIGINT      NOT NULL DEFAULT nextval('item_rev');
CREATE UNIQUE INDEX items_rev ON items (rev);
-- Items that predate this migration were not created now: give each the
-- time of its first event, else 1 January of its year, else when it was
-- last written (otherwise the fresh channel would take the whole
-- catalogue for new).
UPDATE items SET created_at = CASE WHEN year > 0 THEN make_timestamptz(year, 1, 1, 0, 0, 0, 'UTC') ELSE updated_at END;
UPDATE items i SET created_at = f.first
  FROM (SELECT item_id, to_timestamp(min(ts)) AS first FROM events GROUP BY item_id) f
  WHERE f.item_id = i.item_id;

-- Profile attributes (PUT /v1/users/{id}).
ALTER TABLE users ADD COLUMN profile JSONB NOT NULL DEFAULT '{}';

-- Idempotency keys of accepted event batches, kept for 24 hours.
CREATE TABLE event_batches (
    key      TEXT PRIMARY KEY,
    accepted INT         NOT NULL,
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_batches_at ON event_batches (at);
