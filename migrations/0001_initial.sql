-- Registered clusters. The password is kept for the worker's connections and never leaves the service.
CREATE TABLE clusters (
    id          TEXT PRIMARY KEY,
    seeds       TEXT NOT NULL,            -- JSON array of "host:port"
    username    TEXT,
    password    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Jobs outlive their cluster's registration: they are the audit trail.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id       TEXT NOT NULL,
    type             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
    params           TEXT NOT NULL,       -- JSON
    plan             TEXT,                -- JSON
    step             TEXT,
    slots_total      INTEGER NOT NULL DEFAULT 0,
    slots_done       INTEGER NOT NULL DEFAULT 0,
    keys_moved       INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error_code       TEXT,
    error_message    TEXT,
    actor            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    snapshot_before  INTEGER,
    snapshot_after   INTEGER
);
CREATE INDEX jobs_cluster ON jobs (cluster_id, id);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE job_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    level    TEXT NOT NULL CHECK (level IN ('info','warning','error')),
    message  TEXT NOT NULL,
    node     TEXT,
    data     TEXT                         -- JSON
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    reason      TEXT NOT NULL,            -- manual, job-before, job-after
    job_id      INTEGER,
    topology    TEXT NOT NULL             -- JSON, as GET /clusters/{id}/topology answers
);
CREATE INDEX snapshots_cluster ON snapshots (cluster_id, id);
