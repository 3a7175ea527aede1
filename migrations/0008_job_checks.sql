-- What the request asked of the job itself, besides its kind's params (JSON): {"force", "if_match", "big_key_bytes"}.
-- "if_match" is the topology ETag the plan was reviewed against; a queued job checks it again when it starts.
ALTER TABLE jobs ADD COLUMN options TEXT;
-- The proof a finished job ends with (JSON): each post-condition checked and whether it held.
ALTER TABLE jobs ADD COLUMN verification TEXT;
-- The rate a job that moved keys achieved (keys per second over its run) and how its keys travelled ("keys" or
-- "atomic"): the next plan's time estimate for this cluster starts from it.
ALTER TABLE jobs ADD COLUMN keys_per_second REAL;
ALTER TABLE jobs ADD COLUMN move_method TEXT;
