-- The catalogue, the users, and the append-only event log.
CREATE TABLE items (
    item_id    BIGINT PRIMARY KEY,
    title      TEXT        NOT NULL,
    genres     TEXT[]      NOT NULL DEFAULT '{}',
    year       INT         NOT NULL DEFAULT 0,
    available  BOOLEAN     NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    user_id    TEXT PRIMARY KEY,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Append-only: rows are inserted, never updated or deleted by the service.
CREATE TABLE events (
    event_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT             NOT NULL,
    item_id     BIGINT           NOT NULL,
    type        TEXT             NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    ts          BIGINT           NOT NULL, -- seconds since the Unix epoch, as reported
    received_at TIMESTAMPTZ      NOT NULL DEFAULT now()
);

-- A user's history, newest first.
CREATE INDEX events_user_ts ON events (user_id, ts DESC, event_id DESC);
