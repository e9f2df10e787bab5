/* snapshot_policy.c — snapshot triggers and the trailing log margin. */
#include "snapshot_policy.h"

void snapshot_policy_defaults(snapshot_policy *p)
{
	p->every_entries = 100000;
	p->every_bytes = (uint64_t)64 << 20;
	p->trailing_entries = 10000;
	p->trailing_bytes = (uint64_t)16 << 20;
}

bool snapshot_due(const snapshot_policy *p, uint64_t applied, uint64_t snap_index,
		  uint64_t bytes_since)
{
	if (applied <= snap_index)
		return false;
	if (p->every_entries > 0 && applied - snap_index >= p->every_entries)
		return true;
	return p->every_bytes > 0 && bytes_since >= p->every_bytes;
}

uint64_t snapshot_compact_to(const snapshot_policy *p, uint64_t snap_index)
{
	return snap_index > p->trailing_entries ? snap_index - p->trailing_entries : 0;
}
