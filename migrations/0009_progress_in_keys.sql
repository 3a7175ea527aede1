-- Progress counted in what a job carries: the keys its moves will carry (counted with COUNTKEYSINSLOT before they
-- start), and the bytes a backup writes, of the total when known.
ALTER TABLE jobs ADD COLUMN keys_total INTEGER;
ALTER TABLE jobs ADD COLUMN bytes_done INTEGER;
ALTER TABLE jobs ADD COLUMN bytes_total INTEGER;
