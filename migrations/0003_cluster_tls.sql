-- TLS to a cluster's nodes: NULL for plain TCP, else JSON {"ca_file","cert_file","key_file","server_name"} (paths of
-- files on the service's host and a name; never the files' contents).
ALTER TABLE clusters ADD COLUMN tls TEXT;
