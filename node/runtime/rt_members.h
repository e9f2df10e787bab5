/*
 * rt_members.h — the voter set a data dir was created with must be the one
 * it restarts with. Until membership change makes the log the source of the
 * configuration, the member list comes from the command line; restarting
 * one node with a different list would let two disjoint majorities elect
 * leaders in one term. The node keeps the list in meta.json, the simulator
 * in its node dirs; both ask this one function.
 */
#ifndef RAFTKV_RT_MEMBERS_H
#define RAFTKV_RT_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

/* 0 when stored and given name the same set of ids (in any order), else -1
 * with one line in err naming both. */
int rt_members_check(const uint32_t *stored, size_t n_stored, const uint32_t *given, size_t n_given,
		     char *err, size_t errlen);

/* Parses the ids of a "ID,ADDR[,HTTP];ID,ADDR;..." cluster string (the
 * --cluster spelling) into ids (at most max). The count, or -1 when it does
 * not parse. */
int rt_members_parse(const char *cluster, uint32_t *ids, size_t max);

#ifdef RAFT_PLANTED_BUGS
/* The simulator's selector of planted bug 7 (rt_planted.h); 0 = none. */
extern int rt_members_planted_bug;
#endif

#endif
