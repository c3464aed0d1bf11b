-- Google's overlapping design: a global holdout, a launch layer, domains
-- with their own layers; and when each experiment started.
ALTER TABLE exp_state ADD COLUMN holdout JSONB;
ALTER TABLE exp_state ADD COLUMN domain_salt TEXT NOT NULL DEFAULT '';

CREATE TABLE exp_launches (
    name    TEXT PRIMARY KEY,
    salt    TEXT NOT NULL,
    buckets INT NOT NULL CHECK (0 <= buckets AND buckets <= 10000),
    params  JSONB NOT NULL,
    pos     INT NOT NULL
);

CREATE TABLE exp_domains (
    name TEXT PRIMARY KEY,
    pos  INT NOT NULL
);

-- A domain's ranges of the domain space, in the order they were allocated.
CREATE TABLE exp_domain_allocations (
    domain       TEXT NOT NULL REFERENCES exp_domains (name) ON DELETE CASCADE,
    seq          INT NOT NULL,
    bucket_start INT NOT NULL,
    bucket_end   INT NOT NULL,
    PRIMARY KEY (domain, seq),
    CHECK (0 <= bucket_start AND bucket_start < bucket_end AND bucket_end <= 10000)
);

-- '' is the default domain.
ALTER TABLE exp_layers ADD COLUMN domain TEXT NOT NULL DEFAULT '';
ALTER TABLE exp_experiments ADD COLUMN started_at TIMESTAMPTZ;
