-- Where the service dials nodes that announce addresses it cannot reach (NAT): NULL when every node is dialled as
-- announced, else JSON {"nodes": {"announced host:port": "reachable host:port"}, "rules": [{"announced": CIDR,
-- "reachable": host, "port_offset": n}]}.
ALTER TABLE clusters ADD COLUMN address_map TEXT;
