#!/usr/bin/env python3
"""Largest self costs in one callgrind dump, per request.

    tests/bench/cg_top.py N REQUESTS DUMP

Used by tests/bench/instructions.sh (BENCH_CG_TOP=N). callgrind_annotate
3.19, given one of the dumps that script takes with vgdb (after a "zero"),
lists only __libc_start_main and "(below main)", each with the whole phase,
even with --inclusive=no. Here a function's self cost is the sum of its own
cost lines, the line after each "calls=" (a callee's inclusive cost)
excepted. The dump must name functions in full (--compress-strings=no).
"""
import collections
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    n, reqs, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    self_cost = collections.Counter()
    fn = None
    after_calls = False
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                after_calls = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if after_calls:
                    after_calls = False  # the callee's inclusive cost
                elif fn is not None and len(parts) >= 2:
                    self_cost[fn] += int(parts[1])
    total = sum(self_cost.values())
    print("    %7.0f  (all self costs)" % (total / reqs))
    for name, cost in self_cost.most_common(n):
        print("    %7.0f  %s" % (cost / reqs, name))


if __name__ == "__main__":
    main()
