/*
 * format.h — how entries, messages and node states are written in the
 * interaction scripts (the format is documented in README.md).
 */
#ifndef RAFTKV_INTERACTION_FORMAT_H
#define RAFTKV_INTERACTION_FORMAT_H

#include <stdio.h>

#include "../../node/raft/raft.h"

/* "3@2 noop", "4@2 \"put x\"": index@term, then the type or the data. */
void fmt_entry(FILE *out, const raft_entry *e);
/* "[3@2 noop, 4@2 \"x\"]" */
void fmt_entries(FILE *out, const raft_entry *e, size_t n);
/* "1->2 append term=2 prev=2@1 commit=2 entries=[3@2 noop]": the fields a
 * message of that type carries, and no others. */
void fmt_msg(FILE *out, const raft_msg *m);
/* "none" or the id */
void fmt_id(FILE *out, uint32_t id);

#endif
