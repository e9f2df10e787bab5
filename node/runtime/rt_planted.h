/*
 * rt_planted.h — deliberate bugs in the runtime, for proving that the
 * simulator (which runs this same runtime) catches them. Like the core's
 * (node/raft/planted_bugs.h, numbers 1-6) they exist only in a build with
 * -DRAFT_PLANTED_BUGS (the simulator's), chosen by rt_options.planted_bug
 * (the simulator's --bug sets the core's and the runtime's number alike, so
 * the two lists never share a number):
 *
 *   7  a vote answer (VOTE_RESP) is sent at once instead of after the fsync
 *      of the vote it grants: a crash then forgets a vote already counted
 *      (election safety: two leaders in one term);
 *   8  a ready's hard state is queued before its entries in the WAL batch:
 *      a batch torn between them leaves a commit index past entries never
 *      written, and a restart applies entries the leader had overwritten
 *      (state machine safety);
 *   9  the member list a data dir was created with is not checked at
 *      restart (rt_members_check accepts any list): a node restarted with
 *      a different --cluster counts a different majority;
 *  10  (in the simulator's node start: the boot nonce from the wall clock);
 *  11  a WAL write that finishes while the node is paused releases its held
 *      frames and persisted marks at once (a paused node acts);
 *  12  a clock jump delivers 2 x election_ticks + 1 ticks at once (a jump
 *      can start two elections in a row);
 *  13  rt_clock ticks the core while the node still probes for its
 *      incarnation (an empty node campaigns before it knows which life it
 *      is; with pre-vote off its term moves, the probe's verdict then cannot
 *      be applied and the node stops: found by the simulator with wipes,
 *      tests/unit/test_runtime_probe.c);
 *  14  a node that started empty in a cluster that exists proposes with the
 *      nonce of its restarted boot counter at once (nonce_from_log ignored):
 *      its nonce repeats one of an earlier life of its id, and applying that
 *      life's commands answers the new life's waiting requests with them (a
 *      write reported done that never ran: found by the simulator);
 *  30  a restart from a snapshot loads the KV map but not its dedup record
 *      (rt_snapshot.c): a write retried across the restart applies twice
 *      (the simulator compares the loaded state with the state at that
 *      index);
 *  31  after a snapshot the WAL is compacted up to the snapshot itself (no
 *      trailing margin, not kept back to the previous snapshot): a damaged
 *      newest snapshot file can no longer be replaced by the older one plus
 *      the log, and the node cannot restart.
 *  34  boot takes a snapshot ahead of the log, or one whose entry the log
 *      holds with another term, by skipping the recovered log to it without
 *      resetting the WAL (rt_snapshot.c; wal_fit_snapshot is the fix): after
 *      a crash between a received snapshot becoming durable and its RESET
 *      record, the next WAL write leaves a gap and the node stops (found by
 *      the simulator, seeds 875 and 2995 of the first snapshot runs).
 *  40  a follower installs a received snapshot without checking the stream's
 *      final checksum (node/snapshot/snapshot_recv.c takes what parsed): a
 *      chunk damaged on its way (a valid frame with wrong data) becomes the
 *      follower's state machine, which then differs from the leader's at
 *      that index.
 */
#ifndef RAFTKV_RT_PLANTED_H
#define RAFTKV_RT_PLANTED_H

#ifdef RAFT_PLANTED_BUGS
#define RT_PLANTED(r, n) ((r)->o.planted_bug == (n))
#else
#define RT_PLANTED(r, n) 0
#endif

#define RT_BUG_VOTE_BEFORE_FSYNC 7
#define RT_BUG_HS_BEFORE_ENTRIES 8
#define RT_BUG_MEMBERS_UNCHECKED 9
#define RT_BUG_WALL_CLOCK_NONCE 10 /* planted in tests/sim/sim_node.c */
#define RT_BUG_RELEASE_WHILE_PAUSED 11
#define RT_BUG_CLOCK_BURST 12
#define RT_BUG_TICK_WHILE_PROBING 13
#define RT_BUG_NONCE_AFTER_WIPE 14
#define RT_BUG_SNAPSHOT_NO_DEDUP 30
#define RT_BUG_COMPACT_WAL_TO_SNAPSHOT 31
#define RT_BUG_BOOT_SNAPSHOT_NOT_FITTED 34
#define RT_BUG_INSTALL_UNCHECKED 40

#endif
