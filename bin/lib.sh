# Shared by bin/isthmus and bin/check: find a JDK >= 25, install Debian packages, build the jars.
# Sourced, not run. Messages go to stderr prefixed with the calling command's name.

ISTHMUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ISTHMUS_PROG=${ISTHMUS_PROG:-isthmus}

isthmus_die() { echo "$ISTHMUS_PROG: $*" >&2; exit 1; }

# java_major JAVA -> prints the feature version of that java binary (e.g. 25), or nothing.
# Reads the JDK's release file when there is one (starting a JVM just to ask costs ~0.2 s of start-up).
java_major() {
    local rel; rel="$(dirname "$(dirname "$1")")/release"
    if [ -r "$rel" ]; then
        sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
        return
    fi
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# Sets JAVA_HOME to a JDK >= 25: $JAVA_HOME first, then /usr/lib/jvm/*.
find_jdk() {
    local cand
    for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
        local v; v=$(java_major "$cand/bin/java")
        if [ -n "$v" ] && [ "$v" -ge 25 ]; then
            export JAVA_HOME="$cand"
            return 0
        fi
    done
    isthmus_die "no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one, e.g. apt-get install openjdk-25-jdk, or set JAVA_HOME"
}

# ensure_packages PKG... : installs missing Debian packages as root, or prints the command and fails.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        isthmus_die "missing packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    fi
    echo "$ISTHMUS_PROG: installing ${missing[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/tmp/isthmus-apt.log 2>&1; then
        apt-get update -q >>/tmp/isthmus-apt.log 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>/tmp/isthmus-apt.log 2>&1 \
            || isthmus_die "apt-get install ${missing[*]} failed; see /tmp/isthmus-apt.log"
    fi
}

ensure_maven() {
    command -v mvn >/dev/null 2>&1 || ensure_packages maven
}

# The daemon's classpath once built.
daemon_classpath() {
    local jar; jar=$(ls "$ISTHMUS_ROOT"/control/target/isthmus-control-*.jar 2>/dev/null | head -n 1)
    [ -n "$jar" ] || return 1
    echo "$jar:$ISTHMUS_ROOT/control/target/lib/*"
}

# Builds the jars (no tests) when they are missing or older than any source or pom.
build_if_stale() {
    local stamp="$ISTHMUS_ROOT/control/target/.isthmus-built"
    if [ -f "$stamp" ] && [ -z "$(find "$ISTHMUS_ROOT" -path "$ISTHMUS_ROOT/.git" -prune -o \
            \( -path '*/src/*' -o -name pom.xml \) -newer "$stamp" -print -quit 2>/dev/null)" ]; then
        return 0
    fi
    ensure_maven
    echo "$ISTHMUS_PROG: building jars with Maven (first run or sources changed)..." >&2
    local log; log=$(mktemp /tmp/isthmus-build.XXXXXX.log)
    if ! (cd "$ISTHMUS_ROOT" && mvn -B -q -DskipTests -Dmaven.test.skip=true \
            -pl control -am package >"$log" 2>&1); then
        tail -n 40 "$log" >&2
        isthmus_die "build failed; full log in $log"
    fi
    rm -f "$log"
    touch "$stamp"
}
