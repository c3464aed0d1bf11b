-- The exposure log: one row per item a recommendation reply showed.
-- Append-only, written with COPY by the features service in batches.
CREATE TABLE exposures (
    exposure_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    TEXT             NOT NULL,
    trace_id      TEXT             NOT NULL,
    user_id       TEXT             NOT NULL,
    item_id       BIGINT           NOT NULL,
    rank          INT              NOT NULL, -- 1 is the top of the list
    score         DOUBLE PRECISION NOT NULL,
    sources       TEXT[]           NOT NULL,
    model_version TEXT             NOT NULL,
    degraded      TEXT[]           NOT NULL,
    -- every layer's variant: {"<layer>": ["<experiment>", "<variant>"]}
    assignments   JSONB            NOT NULL,
    ts_ms         BIGINT           NOT NULL  -- Unix milliseconds
);

-- Attribution looks up a user's exposures of an item, and a reply's.
CREATE INDEX exposures_user_item_ts ON exposures (user_id, item_id, ts_ms DESC);
CREATE INDEX exposures_ts ON exposures (ts_ms);

-- Feedback may name the reply it answers.
ALTER TABLE events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE INDEX events_feedback ON events (user_id, item_id) WHERE type IN ('click', 'like', 'purchase', 'completion');
