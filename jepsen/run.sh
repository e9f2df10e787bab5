#!/bin/bash
# Runs the Jepsen test: jepsen/run.sh ARGS...  (what `make jepsen ARGS=...` calls)
#   with lein on PATH:        lein run ARGS (in jepsen/)
#   else with JEPSEN_CLASSPATH: $JAVA_HOME/bin/java -cp jepsen/src:$JEPSEN_CLASSPATH:data.json
# The test writes its store/ under jepsen/ either way.
set -u
cd "$(dirname "$0")"
if [ -z "${JEPSEN_CLASSPATH:-}" ] && command -v lein >/dev/null 2>&1; then
	exec lein run "$@"
fi
if [ -n "${JEPSEN_CLASSPATH:-}" ]; then
	java=${JAVA_HOME:+$JAVA_HOME/bin/}java
	if ! command -v "$java" >/dev/null 2>&1; then
		echo "jepsen: JEPSEN_CLASSPATH is set but no java at ${java} (set JAVA_HOME to a JDK 21+)" >&2
		exit 3
	fi
	# A classpath compiled ahead of time on a newer JDK fails to load on an
	# older one before raftkv.main could say why: check the version here.
	v=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	if [ -z "$v" ] || [ "${v%%.*}" -lt 21 ] 2>/dev/null; then
		echo "jepsen: Jepsen 0.3.13 needs JDK 21 or later; $java is JDK ${v:-unknown}. Set JAVA_HOME to a JDK 21+." >&2
		exit 3
	fi
	# clojure.data.json is the test's only library outside Jepsen's own tree:
	# Debian's libdata-json-clojure, unless the classpath already has one.
	extra=""
	case ":$JEPSEN_CLASSPATH:" in
	*data.json*) ;;
	*) for j in /usr/share/java/data.json.jar; do [ -f "$j" ] && extra=":$j"; done ;;
	esac
	exec "$java" -Djava.awt.headless=true ${JEPSEN_JVM_OPTS:--Xmx4g} \
		-cp "src:${JEPSEN_CLASSPATH}${extra}" clojure.main -m raftkv.main "$@"
fi
cat >&2 <<'MSG'
jepsen: neither Leiningen (lein) nor JEPSEN_CLASSPATH is available.
  With Clojars reachable: install Leiningen and a JDK 21+, then make jepsen ARGS="test ...".
  Without: build Jepsen 0.3.13's classpath (see jepsen/README.md) and export
  JEPSEN_CLASSPATH=... and JAVA_HOME=/path/to/jdk-21+.
MSG
exit 3
