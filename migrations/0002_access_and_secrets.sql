-- Cluster passwords are stored sealed (AES-256-GCM under a key kept outside the database, see SecretBox);
-- the old plain column is emptied by the service when it first opens the database with its key.
ALTER TABLE clusters ADD COLUMN password_sealed TEXT;
-- Who registered the cluster (the token's name, or 'anonymous' without a tokens file).
ALTER TABLE clusters ADD COLUMN created_by TEXT NOT NULL DEFAULT 'anonymous';

-- Who did what outside a job's own record: registrations, deletions, cancels. Never pruned.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,            -- cluster.register, cluster.delete, job.cancel
    cluster_id  TEXT NOT NULL,
    job_id      INTEGER
);
CREATE INDEX audit_log_cluster ON audit_log (cluster_id, id);

-- Pruning finds old finished jobs and old snapshots by time.
CREATE INDEX jobs_finished ON jobs (finished_at);
CREATE INDEX snapshots_created ON snapshots (created_at);
