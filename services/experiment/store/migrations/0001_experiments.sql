-- The experiment config (design §4), one row per thing, plus the audit log.
-- Every change rewrites these rows in one transaction that also bumps
-- exp_state.version and appends to exp_audit.
CREATE TABLE exp_state (
    id         INT PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    defaults   JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO exp_state (id, version, defaults) VALUES (1, 0, '{}');

CREATE TABLE exp_layers (
    name TEXT PRIMARY KEY,
    salt TEXT NOT NULL UNIQUE,
    pos  INT NOT NULL
);

CREATE TABLE exp_experiments (
    layer TEXT NOT NULL REFERENCES exp_layers (name) ON DELETE CASCADE,
    name  TEXT NOT NULL,
    pos   INT NOT NULL,
    PRIMARY KEY (layer, name)
);

CREATE TABLE exp_variants (
    layer      TEXT NOT NULL,
    experiment TEXT NOT NULL,
    name       TEXT NOT NULL,
    pos        INT NOT NULL,
    params     JSONB NOT NULL,
    routes     JSONB NOT NULL,
    PRIMARY KEY (layer, experiment, name),
    FOREIGN KEY (layer, experiment) REFERENCES exp_experiments (layer, name) ON DELETE CASCADE
);

-- A variant's bucket ranges in the order they were allocated (seq): growing
-- appends, shrinking gives back the newest.
CREATE TABLE exp_allocations (
    layer        TEXT NOT NULL,
    experiment   TEXT NOT NULL,
    variant      TEXT NOT NULL,
    seq          INT NOT NULL,
    bucket_start INT NOT NULL,
    bucket_end   INT NOT NULL,
    PRIMARY KEY (layer, experiment, variant, seq),
    FOREIGN KEY (layer, experiment, variant) REFERENCES exp_variants (layer, experiment, name) ON DELETE CASCADE,
    CHECK (0 <= bucket_start AND bucket_start < bucket_end AND bucket_end <= 10000)
);

CREATE TABLE exp_overrides (
    layer      TEXT NOT NULL,
    experiment TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    PRIMARY KEY (layer, experiment, user_id),
    FOREIGN KEY (layer, experiment, variant) REFERENCES exp_variants (layer, experiment, name) ON DELETE CASCADE
);

CREATE TABLE exp_audit (
    id      BIGSERIAL PRIMARY KEY,
    version BIGINT NOT NULL,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  JSONB NOT NULL
);
