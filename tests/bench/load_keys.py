#!/usr/bin/env python3
"""load_keys.py URL KEYS PER_TXN NAME: writes keys key0000000.. with 100-byte
values to URL (a node's /txn) in transactions of PER_TXN writes, for the
snapshot benchmarks (snapshot_node.sh, install.sh). Writing the same values
again is harmless, so a busy (503) or timed-out (504, outcome unknown)
transaction is sent again, up to 10 times; anything else stops with a line
naming the key it stopped at.

load_keys.py URL KEYS PER_TXN NAME TXNS: instead, TXNS transactions of
PER_TXN overwrites of keys drawn at random among the KEYS (same-size
values): writes spread over the whole map, as a serving node's are."""
import random
import sys
import time
import urllib.error
import urllib.request

url, keys, per, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
val = "v" * 100
scatter = int(sys.argv[5]) if len(sys.argv) > 5 else 0
rng = random.Random(11)
for start in (range(scatter) if scatter else range(0, keys, per)):
    if scatter:
        picked = (rng.randrange(keys) for _ in range(per))
    else:
        picked = range(start, min(keys, start + per))
    ops = ",".join('["w","key%07d","%s"]' % (i, val) for i in picked)
    body = ('{"ops":[%s]}' % ops).encode()
    for attempt in range(10):
        req = urllib.request.Request(url, data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                if r.status != 200:
                    sys.exit("%s: txn at key %d answered %d" % (name, start, r.status))
                break
        except urllib.error.HTTPError as e:
            if e.code not in (503, 504) or attempt == 9:
                sys.exit("%s: txn at key %d answered %d" % (name, start, e.code))
            time.sleep(0.5)
