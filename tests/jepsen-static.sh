#!/bin/bash
# The jepsen-static suite: reads every .clj under jepsen/ with Debian's clojure
# and runs the pure namespaces' clojure.test suites (jepsen/test/raftkv/
# static_suite.clj). Ends with "jepsen-static: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
json=/usr/share/java/data.json.jar
for need in clojure "$json"; do
	if ! command -v "$need" >/dev/null 2>&1 && [ ! -f "$need" ]; then
		echo "jepsen-static: missing $need (Debian packages clojure, libdata-json-clojure; .ci/install-deps installs them)"
		echo "jepsen-static: 0 passed, 1 failed"
		exit 1
	fi
done

# Exit codes of make jepsen: a stand-in java (JEPSEN_CLASSPATH path) exits with
# each code Jepsen uses; jepsen/run.sh must exit with it, make jepsen must print
# it as its last line (make's own status is 0 or 2) and exit 0 only for valid.
sp=0 sf=0
check() { # check NAME CONDITION...
	local name=$1
	shift
	if "$@"; then sp=$((sp + 1)); else sf=$((sf + 1)); echo "FAIL exit codes: $name"; fi
}
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir "$fake/bin"
cat >"$fake/bin/java" <<'JAVA'
#!/bin/sh
case "$*" in *-XshowSettings*) echo "    java.specification.version = 25" >&2; exit 0 ;; esac
echo "| workload | nemesis | bug | nodes | ops | valid? | anomalies |"
exit "$FAKE_JEPSEN_RC"
JAVA
chmod +x "$fake/bin/java"
for pair in 0:valid 1:invalid 2:unknown 3:could 255:could; do
	code=${pair%%:*} word=${pair#*:}
	export FAKE_JEPSEN_RC=$code
	JAVA_HOME=$fake JEPSEN_CLASSPATH=$fake/none jepsen/run.sh test >/dev/null 2>&1
	got=$?
	check "jepsen/run.sh exits $code (got $got)" [ "$got" -eq "$code" ]
	out=$(JAVA_HOME=$fake JEPSEN_CLASSPATH=$fake/none make -s --no-print-directory jepsen ARGS=test 2>/dev/null)
	got=$?
	last=$(printf '%s\n' "$out" | tail -n 1)
	check "make jepsen's last line for $code: '$last'" [ "${last#jepsen: exit $code ($word}" != "$last" ]
	want=2
	[ "$code" -eq 0 ] && want=0
	check "make jepsen exits $want for $code (got $got)" [ "$got" -eq "$want" ]
done
unset FAKE_JEPSEN_RC
rm -rf "$fake"
trap - EXIT

RAFTKV_BIN=${RAFTKV_BIN:-bin} clojure -cp "jepsen/src:jepsen/test:$json" -m raftkv.static-suite jepsen | tee "${TMPDIR:-/tmp}/jepsen-static.$$"
rc=${PIPESTATUS[0]}
line=$(grep -E '^jepsen-static: [0-9]+ passed, [0-9]+ failed' "${TMPDIR:-/tmp}/jepsen-static.$$" | tail -n 1)
rm -f "${TMPDIR:-/tmp}/jepsen-static.$$"
p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
p=${p:-0} f=${f:-0}
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "jepsen-static: $((p + sp)) passed, $((f + sf)) failed ($sp of them exit-code checks)"
[ "$rc" -eq 0 ] && [ "$sf" -eq 0 ]
