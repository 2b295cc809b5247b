-- A colony.db as wnm-python 0.5.0 leaves it after `wnm --init` and two node
-- additions: SQLAlchemy's create_all DDL for SQLite, Alembic's version table
-- stamped at head, and rows holding NULL wherever upstream may write None.
-- Used by TestAdoptUpstream; user_version is 0, as upstream never sets it.

CREATE TABLE machine (
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

CREATE TABLE container (
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

CREATE TABLE node (
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

CREATE INDEX ix_node_records ON node (records);
CREATE INDEX ix_node_status ON node (status);
CREATE INDEX ix_node_timestamp ON node (timestamp);
CREATE INDEX ix_node_wallet ON node (wallet);


CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version (version_num) VALUES ('e2f4a512d24c');

INSERT INTO machine (id, cpu_count, node_cap, cpu_less_than, mem_less_than, hd_less_than,
	hdio_read_less_than, hdio_write_less_than, netio_read_less_than, netio_write_less_than,
	cpu_remove, mem_remove, hd_remove, hdio_read_remove, hdio_write_remove, netio_read_remove,
	netio_write_remove, max_load_average_allowed, desired_load_average, delay_start,
	delay_restart, delay_upgrade, delay_remove, survey_delay, action_delay, node_storage,
	rewards_address, donate_address, port_start, metrics_port_start, rpc_port_start,
	highest_node_id_used, last_stopped_at, host, crisis_bytes, environment, start_args,
	max_concurrent_upgrades, max_concurrent_starts, max_concurrent_removals,
	max_concurrent_operations, node_removal_strategy, process_manager, max_node_per_container,
	min_container_count, docker_image, no_upnp, antnode_path, antctl_path, antctl_debug,
	antctl_version)
VALUES (1, 8, 20, 50, 60, 75, 0, 0, 0, 0, 70, 75, 90, 0, 0, 0, 0, 8.0, 4.8, 300, 600, 300, 300,
	0, 0, '/home/ant/.local/share/autonomi/node', '0x00455d78f850b0358E8cea5be24d415E01E107CF',
	'0x00455d78f850b0358E8cea5be24d415E01E107CF', 55, 13, 30, NULL, 1767225600, '127.0.0.1',
	2000000000, NULL, NULL, 1, 1, 1, 1, 'youngest', 'systemd+user', 200, 1,
	'iweave/antnode:latest', 0, '~/.local/bin/antnode', '~/.local/bin/antctl', 0, NULL);

INSERT INTO node (id, machine_id, container_id, manager_type, node_name, service, user, binary,
	version, root_dir, log_dir, port, metrics_port, rpc_port, network, wallet, peer_id, status,
	timestamp, records, uptime, shunned, connected_peers, gets, puts, mem, cpu,
	open_connections, total_peers, bad_peers, rel_records, max_records, rewards,
	payment_count, live_time, network_size, age, host, method, layout, environment)
VALUES
	(1, 1, NULL, 'systemd+user', '0001', 'antnode0001.service', 'ant',
	'/home/ant/.local/share/autonomi/node/antnode0001/antnode', '0.4.7',
	'/home/ant/.local/share/autonomi/node/antnode0001', NULL, 55001, 13001, 0,
	'evm-arbitrum-one', '0x00455d78f850b0358E8cea5be24d415E01E107CF',
	'12D3KooWLpjUpAobXQNDFY8WfbuHgCEB8JsV5LYRv3G5iuLsuYkk', 'RUNNING', 1767225900, 1234,
	3600, 0, 7, 0, 42, 9781, 4, 12, 180, 0, 1200, 16384, '0', 0, 3600, 250000, 1767225660,
	'127.0.0.1', 'systemd+user', '1', NULL),
	(2, 1, NULL, 'systemd+user', '0002', 'antnode0002.service', 'ant',
	'/home/ant/.local/share/autonomi/node/antnode0002/antnode', '',
	'/home/ant/.local/share/autonomi/node/antnode0002', NULL, 55002, 13002, 0,
	'evm-arbitrum-one', NULL, NULL, 'STOPPED', 1767225960, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, NULL, 0, 0, 0, 1767225960, '127.0.0.1', 'systemd+user', '1', 'None');
