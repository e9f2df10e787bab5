#!/bin/bash
# How make jepsen, jepsen-local and jepsen-docker run their script:
#   jepsen/exit-line.sh jepsen/local.sh ARGS...
# runs it, then prints Jepsen's exit code and its meaning as the last line and
# exits with that code. make itself always exits 2 when a recipe fails, so
# `make jepsen-local` cannot hand the code on: its status is only 0 (valid) or
# 2 (anything else), and this line (and make's "Error N") says which. Run the
# script directly (jepsen/local.sh, jepsen/run.sh, jepsen/docker.sh) to get
# the code as the exit status: 0 valid, 1 invalid, 2 unknown, other = the test
# could not run (3: no cluster, no JDK 21+, no Jepsen; 255: a test crashed).
set -u
[ $# -gt 0 ] || { echo "usage: jepsen/exit-line.sh SCRIPT [ARGS...]" >&2; exit 3; }
"$@"
rc=$?
case $rc in
0) what="valid" ;;
1) what="invalid" ;;
2) what="unknown" ;;
*) what="could not run" ;;
esac
if [ "$rc" -eq 0 ]; then
	echo "jepsen: exit 0 (valid)"
else
	echo "jepsen: exit $rc ($what); make exits 2 on any failure, $1 exits $rc"
fi
exit "$rc"
