/*
 * options.h — raftkv-workload's command line, parsed once into one struct
 * that every other part reads.
 */
#ifndef RAFTKV_WL_OPTIONS_H
#define RAFTKV_WL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/* Operation types, in the order of history `f` names. */
enum wl_f { F_READ, F_WRITE, F_CAS, F_APPEND, F_COUNT };
extern const char *const wl_f_name[F_COUNT];

/* Fault kinds the nemesis can inject; NEM_MIX picks one per interval. */
enum wl_nemesis_kind {
	NEM_NONE,
	NEM_PARTITION,
	NEM_LEADER_ISOLATION,
	NEM_PAUSE,
	NEM_KILL,
	NEM_CLOCK,
	NEM_MEMBER,
	NEM_MIX,
	NEM_COUNT
};
extern const char *const wl_nemesis_name[NEM_COUNT];

typedef struct wl_options {
	char **nodes;           /* client endpoints, "http://host:port" */
	size_t n_nodes;
	char **agents;          /* agent endpoints, same order; may be NULL */
	size_t n_agents;
	const char *token;      /* admin bearer token, or NULL */
	int clients;
	int keys;
	const char *key_prefix; /* keys are PREFIX "k0".. PREFIX "k(K-1)" */
	unsigned mix[F_COUNT];  /* relative weights */
	unsigned mix_total;
	double rate;            /* ops/s over all clients; 0 = closed loop, no pause */
	double duration;        /* seconds of workload (final phase comes after) */
	long timeout_ms;        /* per client request */
	long value_bytes;       /* writes send values this long (0: the counter alone) */
	const char *history;    /* JSON Lines history, or NULL */
	const char *nemesis_log;
	const char *summary;
	const char *plot;
	int nemesis;            /* enum wl_nemesis_kind */
	double nemesis_interval;
	uint64_t seed;
	const char *consistency; /* linearizable | stale | log */
	int check;              /* run the checker afterwards */
	double check_timeout;   /* seconds the checker may take, 0 = no limit */
	double ready_timeout;   /* seconds to wait for /readyz on every node */
	int final_reads;        /* read every key on every node at the end */
	int quiet;              /* no human summary on stdout */
} wl_options;

/* 0: parsed; 1: --help printed, exit 0; -1: usage error printed, exit 2. */
int options_parse(int argc, char **argv, wl_options *o);
void options_free(wl_options *o);

#endif
