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
RAFTKV_BIN=${RAFTKV_BIN:-bin} exec clojure -cp "jepsen/src:jepsen/test:$json" -m raftkv.static-suite jepsen
