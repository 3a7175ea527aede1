-- Idempotency-Key on job submissions: a retried request with the same key (per token) gets the job the first one
-- made. `request` is a digest of the endpoint and the body; keys expire after 24 hours.
CREATE TABLE idempotency_keys (
    owner       TEXT NOT NULL,            -- the token's name ('anonymous' without a tokens file)
    key         TEXT NOT NULL,
    request     TEXT NOT NULL,
    job_id      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
