/*
 * meta.h — the data directory's identity file, <data-dir>/meta.json
 * {"node":ID,"cluster":"..."}, and the lock that keeps two processes out of
 * one directory.
 *
 * The file is written once, on first start, atomically (write a temporary,
 * fsync it, rename, fsync the directory), so a crash leaves either no file or
 * a whole one. A later start with another --node is refused: pointing node 1
 * at node 0's log would let one disk vote twice. So is a start whose
 * --cluster names another set of member ids than the stored one
 * (node/runtime/rt_members.c): two disjoint majorities could elect leaders.
 */
#ifndef RAFTKV_META_H
#define RAFTKV_META_H

#include <stddef.h>
#include <stdint.h>

/* Creates dir (and parents) if needed, takes an exclusive lock on
 * dir/LOCK (kept until the process exits), then checks or writes meta.json.
 * cluster is NULL for a node started with --join: its file is
 * {"node":ID,"join":true} and later also "peers" (meta_store_peers), which
 * *peers receives (malloc'd) when stored, else NULL. A dir created with
 * --cluster refuses --join and the other way round. *lock_fd receives the
 * lock's descriptor. 0, or -1 with one line in err. */
int meta_prepare(const char *dir, uint32_t node, const char *cluster, char **peers, int *lock_fd,
		 char *err, size_t errlen);

/* A joined node's address book of the members it was told about when it
 * was added ("ID,RAFT,HTTP;..."), stored atomically in meta.json. */
int meta_store_peers(const char *dir, uint32_t node, const char *peers, char *err, size_t errlen);

#endif
