-- 0001: the tables of wnm-python (Alembic head e2f4a512d24c), as a fresh
-- upstream database has them. The statement text mirrors what SQLAlchemy's
-- create_all emits for SQLite (tab indents, ", " line ends, table-level
-- constraints), so sqlite_master reads like an upstream colony.db's (SQLite
-- drops "IF NOT EXISTS" from the stored text). Upstream applies its defaults
-- client-side, so no column has a DEFAULT clause here.
--
-- IF NOT EXISTS lets wnm adopt an existing upstream colony.db in place (its
-- user_version is 0): the tables stay as they are and only the alembic
-- version row is filled in when it is missing.

CREATE TABLE IF NOT EXISTS machine (
	id INTEGER NOT NULL, 
	cpu_count INTEGER NOT NULL, 
	node_cap INTEGER NOT NULL, 
	cpu_less_than INTEGER NOT NULL, 
	mem_less_than INTEGER NOT NULL, 
	hd_less_than INTEGER NOT NULL, 
	hdio_read_less_than INTEGER NOT NULL, 
	hdio_write_less_than INTEGER NOT NULL, 
	netio_read_less_than INTEGER NOT NULL, 
	netio_write_less_than INTEGER NOT NULL, 
	cpu_remove INTEGER NOT NULL, 
	mem_remove INTEGER NOT NULL, 
	hd_remove INTEGER NOT NULL, 
	hdio_read_remove INTEGER NOT NULL, 
	hdio_write_remove INTEGER NOT NULL, 
	netio_read_remove INTEGER NOT NULL, 
	netio_write_remove INTEGER NOT NULL, 
	max_load_average_allowed FLOAT NOT NULL, 
	desired_load_average FLOAT NOT NULL, 
	delay_start INTEGER NOT NULL, 
	delay_restart INTEGER NOT NULL, 
	delay_upgrade INTEGER NOT NULL, 
	delay_remove INTEGER NOT NULL, 
	survey_delay INTEGER NOT NULL, 
	action_delay INTEGER NOT NULL, 
	node_storage TEXT NOT NULL, 
	rewards_address TEXT NOT NULL, 
	donate_address TEXT NOT NULL, 
	port_start INTEGER NOT NULL, 
	metrics_port_start INTEGER NOT NULL, 
	rpc_port_start INTEGER NOT NULL, 
	highest_node_id_used INTEGER, 
	last_stopped_at INTEGER NOT NULL, 
	host TEXT NOT NULL, 
	crisis_bytes INTEGER NOT NULL, 
	environment TEXT, 
	start_args TEXT, 
	max_concurrent_upgrades INTEGER NOT NULL, 
	max_concurrent_starts INTEGER NOT NULL, 
	max_concurrent_removals INTEGER NOT NULL, 
	max_concurrent_operations INTEGER NOT NULL, 
	node_removal_strategy TEXT NOT NULL, 
	process_manager TEXT, 
	max_node_per_container INTEGER NOT NULL, 
	min_container_count INTEGER NOT NULL, 
	docker_image TEXT, 
	no_upnp INTEGER NOT NULL, 
	antnode_path TEXT, 
	antctl_path TEXT, 
	antctl_debug INTEGER NOT NULL, 
	antctl_version TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS container (
	id INTEGER NOT NULL, 
	machine_id INTEGER NOT NULL, 
	container_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	image TEXT NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	created_at INTEGER NOT NULL, 
	port_range_start INTEGER, 
	port_range_end INTEGER, 
	metrics_port_range_start INTEGER, 
	metrics_port_range_end INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(machine_id) REFERENCES machine (id), 
	UNIQUE (container_id)
);

CREATE TABLE IF NOT EXISTS node (
	id INTEGER NOT NULL, 
	machine_id INTEGER NOT NULL, 
	container_id INTEGER, 
	manager_type TEXT NOT NULL, 
	node_name VARCHAR(10) NOT NULL, 
	service TEXT NOT NULL, 
	user VARCHAR(24) NOT NULL, 
	binary TEXT NOT NULL, 
	version TEXT, 
	root_dir TEXT NOT NULL, 
	log_dir TEXT, 
	port INTEGER NOT NULL, 
	metrics_port INTEGER NOT NULL, 
	rpc_port INTEGER NOT NULL, 
	network TEXT NOT NULL, 
	wallet VARCHAR(42), 
	peer_id VARCHAR(52), 
	status VARCHAR(32) NOT NULL, 
	timestamp INTEGER NOT NULL, 
	records INTEGER NOT NULL, 
	uptime INTEGER NOT NULL, 
	shunned INTEGER NOT NULL, 
	connected_peers INTEGER NOT NULL, 
	gets INTEGER NOT NULL, 
	puts INTEGER NOT NULL, 
	mem INTEGER NOT NULL, 
	cpu INTEGER NOT NULL, 
	open_connections INTEGER NOT NULL, 
	total_peers INTEGER NOT NULL, 
	bad_peers INTEGER NOT NULL, 
	rel_records INTEGER NOT NULL, 
	max_records INTEGER NOT NULL, 
	rewards TEXT, 
	payment_count INTEGER NOT NULL, 
	live_time INTEGER NOT NULL, 
	network_size INTEGER NOT NULL, 
	age INTEGER NOT NULL, 
	host TEXT NOT NULL, 
	method TEXT NOT NULL, 
	layout TEXT NOT NULL, 
	environment TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(machine_id) REFERENCES machine (id), 
	FOREIGN KEY(container_id) REFERENCES container (id)
);

CREATE INDEX IF NOT EXISTS ix_node_records ON node (records);
CREATE INDEX IF NOT EXISTS ix_node_status ON node (status);
CREATE INDEX IF NOT EXISTS ix_node_timestamp ON node (timestamp);
CREATE INDEX IF NOT EXISTS ix_node_wallet ON node (wallet);

-- Alembic's own version table, spelled the way Alembic creates it.
CREATE TABLE IF NOT EXISTS alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

INSERT INTO alembic_version (version_num)
SELECT 'e2f4a512d24c' WHERE NOT EXISTS (SELECT 1 FROM alembic_version);
