/*
 * planted_bugs.h — deliberate safety bugs, for proving that the simulator's
 * checkers catch real violations.
 *
 * They exist only in a core compiled with -DRAFT_PLANTED_BUGS; in every other
 * build PLANTED_BUG(r, n) is the constant 0 and the compiler removes the code
 * it guards. raft_config.planted_bug picks one:
 *
 *   1  a candidate counts vote responses from an older term as grants
 *      (election safety: two leaders in one term);
 *   2  the leader commits an entry of an earlier term by counting replicas,
 *      ignoring the current-term rule of Raft §5.4.2 / Figure 8
 *      (a committed entry can be overwritten);
 *   3  a node granting a vote does not record it in the hard state, so the
 *      vote is never persisted and is forgotten on restart (double voting);
 *   4  the leader serves ReadIndex without waiting for an entry of its own
 *      term to commit (a new leader can serve a stale read);
 *   5  a follower's word is trusted: it commits a heartbeat's commit index
 *      without checking that its log holds the leader's term there, and the
 *      leader lowers match to the follower's reported last index without
 *      checking the term there (a follower whose disk went back to an older
 *      image applies entries the leader overwrote: issue 10 item 3);
 *   6  the must-sync rule forgets term and vote: a ready that only changes
 *      them says must_sync = false, so a granted vote goes out unsynced and
 *      a crash forgets it (double voting: issue 10 item 4's rule, too weak).
 *  (7-12 are the runtime's, node/runtime/rt_planted.h.)
 *  20  voting rights ignore the incarnation: a node that restarted with an
 *      empty disk (a new incarnation) votes at once with no record of its
 *      vote or log, and the leader counts its answers for the old member
 *      (an acknowledged write is lost: issue 10 item 1; test_raft_membership).
 *  21  a follower takes a snapshot as already held when its log has any
 *      entry at the snapshot's index, without comparing terms: it keeps a
 *      conflicting log and commits it (snapshot.c; entries of a deposed
 *      leader get applied);
 *  22  a node that the last, uncommitted configuration change of its log
 *      removed never campaigns (membership_may_campaign; found by the
 *      simulator: a leader that appended its own removal and lost
 *      leadership before replicating it holds the longest log, refuses its
 *      vote to the others, and no leader is ever elected again);
 *  23  learners count toward the commit point (a majority of the voters'
 *      number among voters and learners): an entry held by the leader and
 *      a new learner only is taken as committed (replication.c);
 *  24  the single-server rule is skipped: a leader proposes a membership
 *      change before an entry of its own term is committed (raft-dev,
 *      2015; membership.c; test_raft_membership, not the simulator);
 *  25  a CONF entry cut from the log (a conflicting suffix) stays in force:
 *      the configuration is not rolled back to the last one still in the
 *      log (membership.c; the simulator's "configurations change only
 *      through the log");
 *  26  vote requests from a node that is not a voter of this node's
 *      configuration are ignored even with no leader, and votes go only to
 *      voters of it: a node whose configuration is behind refuses the new
 *      voters (found by the simulator: two nodes each behind the other's
 *      change ignored each other, and no leader was elected again);
 *  27  a learner is promoted automatically once it is within the promote
 *      distance, before it durably holds the CONF entry that added it: a
 *      new life that crashes then comes back with a log naming its old
 *      life, votes for nobody, and the voter is lost (membership.c; found
 *      by the simulator, seed 9580 of 10000).
 */
#ifndef RAFTKV_RAFT_PLANTED_BUGS_H
#define RAFTKV_RAFT_PLANTED_BUGS_H

#ifdef RAFT_PLANTED_BUGS
#define PLANTED_BUG(r, n) ((r)->cfg.planted_bug == (n))
#else
#define PLANTED_BUG(r, n) 0
#endif

#endif
