/*
 * config.h — the node's command line (contract section 1).
 *
 * The cluster spelling is goraft kvapi's: "ID,RAFTADDR;ID,RAFTADDR;...", with
 * an optional third field per member, its HTTP address ("0,:3030,:2020;...").
 * Every flag is accepted as --flag VALUE, --flag=VALUE or Go's -flag VALUE.
 */
#ifndef RAFTKV_CONFIG_H
#define RAFTKV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../raft/raft.h"

#define RAFTKV_VERSION "0.1.0"

typedef struct node_member {
	uint32_t id;
	char *raft_addr;
	char *http_addr; /* NULL when the cluster string does not say */
} node_member;

typedef struct node_config {
	uint32_t id;
	char *http_addr;
	char *cluster;      /* the --cluster string as given; NULL with --join */
	char *join_url;     /* --join: a member's HTTP URL; NULL when bootstrapping */
	char *raft_addr;    /* this node's peer address (--raft, or its --cluster entry) */
	bool join_learner;  /* --join-learner: ask to be added without auto-promotion */
	uint32_t join_timeout_s; /* --join-timeout: give up when not added within this (0 = never) */
	uint32_t promote_distance;
	node_member members[RAFT_MAX_NODES]; /* --cluster's; none with --join */
	size_t n_members;
	char *data_dir;
	bool enable_faults;
	char *admin_token;  /* NULL = no token required */
	size_t max_key_bytes;
	size_t max_value_bytes;
	uint32_t request_timeout_ms;
	uint32_t tick_ms;
	int election_ticks;
	int heartbeat_ticks;
	bool pre_vote;
	char *peer_secret;      /* cluster secret for peer hellos, NULL = none */
	size_t max_connections;     /* client HTTP connections (also capped by the fd limit) */
	size_t max_uncommitted_bytes; /* proposed and unanswered command bytes; past it 503 */
	size_t snapshot_entries;    /* automatic snapshot after this many entries (0 = off) */
	size_t snapshot_bytes;      /* ... or this many bytes of entries (0 = off) */
	size_t snapshot_trailing;   /* log entries kept behind a snapshot for lagging followers */
	size_t snapshot_trailing_bytes; /* ... and at most this many bytes of them (0 = no bound) */
	size_t wal_segment_bytes;   /* WAL segment size: compaction drops whole segments */
	size_t max_buffered_bytes;  /* request bodies still arriving, all connections */
	uint32_t idle_timeout_ms;
	uint32_t header_timeout_ms;
	uint32_t body_timeout_ms;
	char *peer_secret_file; /* where --peer-secret-file read it from */
	bool show_help;
	bool show_version;
	/* Not a flag: a program that hosts the node in its own process (the api
	 * fuzz target) keeps SIGTERM and SIGINT for itself; the node installs no
	 * handler, so a signal meant for the host does not stop the node. */
	bool host_keeps_signals;
} node_config;

/* Parses argv into c (defaults first). 0, or -1 with one line in err. */
int config_parse(int argc, char **argv, node_config *c, char *err, size_t errlen);
void config_free(node_config *c);
void config_print_help(FILE *out);

/* The member entry of id, or NULL. */
const node_member *config_member(const node_config *c, uint32_t id);

#endif
