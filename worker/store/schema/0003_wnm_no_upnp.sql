-- 0003: whether a node passes --no-upnp, when its own unit said so. A node
-- adopted from anm or another tool keeps what its unit had (anm wrote it per
-- unit); NULL means the machine's no_upnp applies, as for wnm's own nodes.
ALTER TABLE node ADD COLUMN wnm_no_upnp INTEGER;
