-- What a job answers besides its effect on the cluster (JSON): e.g. each node's reply to a `call`.
ALTER TABLE jobs ADD COLUMN result TEXT;
