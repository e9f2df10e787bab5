/* queue.h — the simulator's event queue: a binary min-heap on (time, seq).
 * seq breaks ties in insertion order, which keeps runs deterministic. */
#ifndef RAFTKV_SIM_QUEUE_H
#define RAFTKV_SIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>


enum sim_ev_kind {
	EV_DELIVER,   /* a frame to node (from = arg) */
	EV_TICK,      /* node's timer */
	EV_CLIENT,    /* client issues its next operation */
	EV_CRASH,     /* node crashes */
	EV_RESTART,   /* node restarts from its data dir */
	EV_PARTITION, /* a new random partition */
	EV_HEAL,      /* partition ends */
	EV_FSYNC,     /* a node's WAL write is durable */
	EV_DEFER,     /* a frame held by a node's delay fault is due */
	EV_PAUSE,     /* a node is paused (the pause fault) */
	EV_RESUME,    /* ... and resumed */
	EV_JUMP,      /* a node's clock jumps forward */
	EV_WIPE,      /* node loses its data dir (a power cut first if it is up) */
	EV_MEMBER,    /* a membership change at the leader (arg 1: add a non-member) */
	EV_SNAP_DONE, /* a node's snapshot write is durable */
	EV_SNAP_COMPACTED, /* ... and its compaction done */
	EV_SNAP_REQUEST, /* POST /admin/snapshot at a node (random points) */
	EV_RECV_IO,   /* a received snapshot's disk step (ptr: the receiver) runs */
};

typedef struct sim_event {
	uint64_t at; /* simulated microseconds */
	uint64_t seq;
	uint8_t kind;
	uint32_t node;
	uint64_t arg;  /* client id, epoch, ... */
	uint8_t *frame; /* EV_DELIVER: owned encoded message */
	size_t len;
	void *ptr;      /* EV_DEFER: the runtime's rt_deferred (valid while arg = epoch) */
} sim_event;

typedef struct sim_queue {
	sim_event *ev;
	size_t n, cap;
	uint64_t next_seq;
} sim_queue;

int sim_queue_push(sim_queue *q, sim_event e); /* 0 or -1 ENOMEM */
int sim_queue_pop(sim_queue *q, sim_event *out); /* 0, or -1 when empty */
void sim_queue_free(sim_queue *q);

#endif
