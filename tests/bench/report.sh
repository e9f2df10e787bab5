#!/bin/bash
# Part 2 of `make bench`: the sweep table (stdout and a Markdown copy), the
# raftkv ÷ etcd ratios, and throughput-versus-latency curves in one SVG.
#
#   tests/bench/report.sh SWEEP.tsv OUT.svg SYSTEM...
#
# SWEEP.tsv has one row per point: system op conns ops_per_s p50_ms p99_ms
# errors cpu_us_per_op (tests/bench.sh writes it).
set -euo pipefail
tsv=$1 svg=$2
shift 2
systems=("$@")
md=${svg%.svg}.md

# One table row per (op, conns): each system's figures side by side, then the
# ratios when etcd ran. cpu = CPU time of the three node processes per request.
awk -F'\t' -v systems="${systems[*]}" -v md="$md" '
NR == 1 { next }
{
	k = $2 SUBSEP $3
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	ops[$1, k] = $4; p50[$1, k] = $5; p99[$1, k] = $6; err[$1, k] = $7; cpu[$1, k] = $8
}
END {
	ns = split(systems, sys, " ")
	hdr = sprintf("%-6s %6s", "op", "conns")
	mh = "| op | conns |"; ms = "|---|---:|"
	for (i = 1; i <= ns; i++) {
		hdr = hdr sprintf(" | %-6s %9s %8s %8s %6s %8s", sys[i], "ops/s", "p50 ms", "p99 ms", "errors", "cpu µs")
		mh = mh sprintf(" %s ops/s | p50 ms | p99 ms | cpu µs/op |", sys[i]); ms = ms "---:|---:|---:|---:|"
	}
	if (ns > 1) { hdr = hdr " | raftkv÷etcd ops/s  cpu/op"; mh = mh " raftkv÷etcd ops/s | raftkv÷etcd cpu/op |"; ms = ms "---:|---:|" }
	print hdr; print mh > md; print ms > md
	for (j = 1; j <= n; j++) {
		k = order[j]; split(k, kk, SUBSEP)
		line = sprintf("%-6s %6d", kk[1], kk[2]); m = "| " kk[1] " | " kk[2] " |"
		for (i = 1; i <= ns; i++) {
			s = sys[i]
			line = line sprintf(" | %-6s %9.0f %8.2f %8.2f %6d %8.1f", "", ops[s, k], p50[s, k], p99[s, k], err[s, k], cpu[s, k])
			m = m sprintf(" %.0f | %.2f | %.2f | %.1f |", ops[s, k], p50[s, k], p99[s, k], cpu[s, k])
		}
		if (ns > 1) {
			r = ops["etcd", k] > 0 ? ops["raftkv", k] / ops["etcd", k] : 0
			c = cpu["etcd", k] > 0 ? cpu["raftkv", k] / cpu["etcd", k] : 0
			line = line sprintf(" | %17.2f %7.2f", r, c); m = m sprintf(" %.2f | %.2f |", r, c)
		}
		print line; print m > md
	}
}' "$tsv"

if [ ${#systems[@]} -gt 1 ]; then
	# one summary figure per op: geometric mean of the per-point throughput ratios
	for op in write read; do
		awk -F'\t' -v op="$op" 'NR > 1 && $2 == op { o[$1, $3] = $4; c[$3] = 1 }
			END { for (k in c) if (o["etcd", k] > 0 && o["raftkv", k] > 0) { s += log(o["raftkv", k] / o["etcd", k]); n++ }
			      if (n) printf "raftkv ÷ etcd, %s throughput (geometric mean over %d connection counts): %.2f\n", op, n, exp(s / n) }' "$tsv"
	done
fi

# throughput-versus-latency curves: one line per system and op, a point per connection count
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plots=()
for s in "${systems[@]}"; do
	for op in write read; do
		awk -F'\t' -v s="$s" -v op="$op" 'NR > 1 && $1 == s && $2 == op { print $4, $5, $6, $3 }' "$tsv" >"$tmp/$s-$op.dat"
		[ -s "$tmp/$s-$op.dat" ] || continue
		name="$s $op"; [ "$op" = read ] && name="$s linearizable read"
		plots+=("'$tmp/$s-$op.dat' using 1:2 with linespoints title '$name p50'")
		plots+=("'$tmp/$s-$op.dat' using 1:3 with linespoints dashtype 2 title '$name p99'")
		plots+=("'$tmp/$s-$op.dat' using 1:2:4 with labels offset 0.8,0.6 font ',8' notitle")
	done
done
joined=$(IFS=,; echo "${plots[*]}")
gnuplot <<EOT
set terminal svg size 900,560 dynamic font 'sans,11'
set output '$svg'
set title 'throughput vs latency, 3 nodes, fsync on (labels: connections)'
set xlabel 'requests/s'
set ylabel 'latency (ms)'
set logscale y
set key outside right top
set grid
plot $joined
EOT
echo "table (Markdown): $md   curves: $svg   data: $tsv"
