#!/usr/bin/env python3
"""gen-history.py — synthetic histories for raftkv-check (contract section 5).

Simulates clients against one correct, single-copy key-value store: every
operation takes effect at one instant between its invoke and its completion,
so the history is linearizable by construction. Unknown outcomes (info) take
effect later or never; failed writes never do; cas refusals are "fail" with
"error":"mismatch". --stale N then makes N reads return a value overwritten
before they began (values are unique), which makes it not linearizable
unless an operation with unknown outcome did the overwriting.

  gen-history.py --ops 100000 --keys 100 --clients 50 --seed 1 > h.jsonl
"""
import argparse
import heapq
import json
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--info", type=float, default=0.01, help="share of writes with unknown outcome")
    ap.add_argument("--fail", type=float, default=0.01, help="share of ops that fail outright")
    ap.add_argument("--append", type=float, default=0.15, help="share of appends")
    ap.add_argument("--stale", type=int, default=0, help="reads made to return an old value")
    ap.add_argument("--tick", type=int, default=1000, help="time granularity in ns (coarse = ties)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    store = {}                       # key -> current value (absent = missing)
    past = {}                        # key -> list of earlier values, for --stale
    keys = ["k%d" % i for i in range(a.keys)]
    out = sys.stdout
    heap, seq = [], 0
    proc = list(range(a.clients))    # client -> its current process id
    next_pid = a.clients
    issued = 0
    stale_left = a.stale

    def push(t, kind, data):
        nonlocal seq
        heapq.heappush(heap, (t, seq, kind, data))
        seq += 1

    def emit(ev):
        out.write(json.dumps(ev, separators=(",", ":")) + "\n")

    def dur():
        return rnd.randint(0, 20) * a.tick

    for c in range(a.clients):
        push(rnd.randint(0, 10) * a.tick, "invoke", c)
    while heap:
        t, _, kind, d = heapq.heappop(heap)
        if kind == "invoke":
            if issued >= a.ops:
                continue
            issued += 1
            c = d
            k = rnd.choice(keys)
            r = rnd.random()
            if r < 0.40:
                f, v = "read", None
            elif r < 0.40 + a.append:
                f, v = "append", "%d.%d " % (c, issued)
            elif r < 0.80:
                f, v = "write", "v%d" % issued
            else:
                cur = store.get(k)
                exp = cur if rnd.random() < 0.6 else rnd.choice([None, "v%d" % rnd.randint(1, issued)])
                f, v = "cas", [exp, "c%d" % issued]
            op = {"c": c, "p": proc[c], "f": f, "k": k, "v": v, "t0": t}
            emit({"process": op["p"], "type": "invoke", "f": f, "key": k, "value": v, "time": t})
            fate = rnd.random()
            if f != "read" and fate < a.info:
                op["end"] = "info"
            elif fate < a.info + a.fail:
                op["end"] = "fail"
            else:
                op["end"] = "ok"
            ta = t + dur()
            tc = ta + dur()
            if op["end"] == "info":
                if rnd.random() < 0.5:              # takes effect, maybe after the info
                    push(t + rnd.randint(0, 60) * a.tick, "apply", op)
            elif op["end"] == "ok":
                push(ta, "apply", op)
            push(tc, "complete", op)
        elif kind == "apply":
            op = d
            k, f, v = op["k"], op["f"], op["v"]
            cur = store.get(k)
            if f == "read":
                op["res"] = cur
                # Only values whose overwriting op had surely completed
                # (apply + at most 20 ticks) before this read was invoked.
                gone = [v for v, when in past.get(k, []) if when + 21 * a.tick < op["t0"]]
                if stale_left and gone and rnd.random() < 0.2:
                    old = rnd.choice(gone)
                    if old != cur:
                        op["res"] = old
                        stale_left -= 1
                        print("gen-history: stale read of %s at %d on key %s (value now %s)"
                              % (json.dumps(old), t, k, json.dumps(cur)), file=sys.stderr)
            else:
                if f == "write":
                    new = v
                elif f == "append":
                    new = (cur or "") + v
                elif cur == v[0]:
                    new = v[1]
                else:
                    new = cur
                    if op["end"] == "ok":
                        op["end"] = "mismatch"
                if new != cur:
                    past.setdefault(k, []).append((cur, t))
                    store[k] = new
        else:  # complete
            op = d
            ev = {"process": op["p"], "type": op["end"], "f": op["f"], "key": op["k"], "value": op["v"], "time": t}
            if op["end"] == "mismatch":
                ev["type"] = "fail"
                ev["error"] = "mismatch"
            elif op["f"] == "read":
                ev["value"] = op.get("res") if op["end"] == "ok" else None
            emit(ev)
            c = op["c"]
            if op["end"] == "info":                 # that process is done
                proc[c] = next_pid
                next_pid += 1
            push(t + rnd.randint(0, 5) * a.tick, "invoke", c)


if __name__ == "__main__":
    main()
