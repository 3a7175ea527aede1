-- Where a job that walks something long (an import's SCAN) got to: opaque JSON the job kind writes with its
-- progress and reads back when it resumes after an interruption, so it continues rather than starting over.
ALTER TABLE jobs ADD COLUMN checkpoint TEXT;
