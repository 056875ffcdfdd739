# Shared by bin/isthmus and bin/check: find a JDK >= 25, install Debian packages, build the jars.
# Sourced, not run. Messages go to stderr prefixed with the calling command's name.

_isthmus_dir=${BASH_SOURCE[0]%/*}
[ "$_isthmus_dir" = "${BASH_SOURCE[0]}" ] && _isthmus_dir=.
ISTHMUS_ROOT=$(cd "$_isthmus_dir/.." && pwd)
ISTHMUS_PROG=${ISTHMUS_PROG:-isthmus}

isthmus_die() { echo "$ISTHMUS_PROG: $*" >&2; exit 1; }

# jdk_release JAVA_HOME KEY -> sets REPLY to KEY's value in that JDK's release file (empty if none).
# Bash builtins only, like the rest of the start path: the launcher runs on every start, and each
# fork+exec costs milliseconds on a loaded machine.
jdk_release() {
    local line key="$2="
    REPLY=
    [ -r "$1/release" ] || return 0
    while IFS= read -r line; do
        if [ "${line#"$key"}" != "$line" ]; then
            line=${line#"$key"}
            line=${line#\"}
            REPLY=${line%\"}
            return 0
        fi
    done <"$1/release"
}

# java_major JAVA_HOME -> prints the feature version of that JDK (e.g. 25), or nothing.
# Reads the JDK's release file when there is one (starting a JVM just to ask costs ~0.2 s of start-up).
java_major() {
    jdk_release "$1" JAVA_VERSION
    if [ -n "$REPLY" ]; then
        printf '%s\n' "${REPLY%%[!0-9]*}"
        return
    fi
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# Sets JAVA_HOME to a JDK >= 25: $JAVA_HOME first, then /usr/lib/jvm/*.
find_jdk() {
    local cand v
    for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
        if jdk_release "$cand" JAVA_VERSION && [ -n "$REPLY" ]; then
            v=${REPLY%%[!0-9]*}
        else
            v=$(java_major "$cand")
        fi
        if [ -n "$v" ] && [ "$v" -ge 25 ]; then
            export JAVA_HOME="$cand"
            return 0
        fi
    done
    isthmus_die "no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one, e.g. apt-get install openjdk-25-jdk, or set JAVA_HOME"
}

# ensure_packages PKG... : installs missing Debian packages as root, or prints the command and fails.
ensure_packages() {
    local missing=() p f
    for p in "$@"; do
        # Fast path without a fork: dpkg keeps a file list for every installed package (removed ones
        # lose it). Only when it is absent ask dpkg-query, which costs ~40 ms per call.
        for f in "/var/lib/dpkg/info/$p.list" "/var/lib/dpkg/info/$p:"*.list; do
            [ -e "$f" ] && continue 2
        done
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

# The daemon's classpath once built: every jar spelled out in a fixed (sorted) order, because the AOT
# cache records the class path and is only used when it matches exactly.
daemon_classpath() {
    local jars=("$ISTHMUS_ROOT"/control/target/isthmus-control-*.jar) cp j
    [ -f "${jars[0]}" ] || return 1
    cp=${jars[0]}
    for j in "$ISTHMUS_ROOT"/control/target/lib/*.jar; do
        [ -f "$j" ] && cp="$cp:$j"
    done
    printf '%s\n' "$cp"
}

# Builds the jars (no tests) when they are missing or older than any source or pom.
build_if_stale() {
    local stamp="$ISTHMUS_ROOT/control/target/.isthmus-built"
    if [ -f "$stamp" ] && [ -z "$(find "$ISTHMUS_ROOT" \( -path "$ISTHMUS_ROOT/.git" -o -name target \) -prune -o \
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

# The daemon's JVM settings, shared by the start-up cache's training run and the daemon (the cache is
# only used by a JVM started with compatible settings). Data buffers are native memory, so the heap
# stays small; Serial GC has the smallest footprint and its pauses are short on a heap this size. C2
# stays on (the data path needs it). No hsperfdata file (-XX:-UsePerfData): nothing in /tmp, a little
# less start-up work; jcmd still attaches. The native heap is trimmed every 2 s: the JIT's arenas of the
# first seconds (~14 MB once io_uring and the FFM bindings are set up) go back to the kernel once the
# daemon idles, instead of staying resident in glibc's free lists (idle RSS with an IoThread: 67 -> 56 MiB).
ISTHMUS_JVM_FLAGS=(
    --enable-native-access=ALL-UNNAMED
    -XX:+UseSerialGC -Xms16m -Xmx512m -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m -Xss512k
    -XX:-UsePerfData -XX:TrimNativeHeapInterval=2000
    -Disthmus.home="$ISTHMUS_ROOT"
)

# aot_cache_file -> sets REPLY to the start-up cache for this JDK (JEP 483/515 AOT cache: classes loaded
# and linked, lambdas resolved and method profiles of a training run, mapped at start). Named for the
# JDK build, since a cache only works with the JVM that wrote it.
aot_cache_file() {
    local id
    jdk_release "$JAVA_HOME" JAVA_RUNTIME_VERSION
    id=${REPLY:-unknown}
    jdk_release "$JAVA_HOME" IMPLEMENTOR
    id="$id-$REPLY"
    REPLY="$ISTHMUS_ROOT/control/target/aot/isthmus-${id//[!A-Za-z0-9._+-]/_}.aot"
}

# ensure_aot_cache CP -> sets ISTHMUS_AOT_FLAGS to the JVM flags that use the start-up cache, creating the cache first when
# it is missing or older than the jars (a short training run: StartupTraining drives a daemon through a
# QMP session). Never fails: when the cache cannot be made the daemon starts without it, and a cache the
# JVM rejects (other JDK, changed jars, truncated file) is ignored by the JVM (-XX:AOTMode=auto), whose
# messages are silenced so that they cannot mix with QMP on stdout.
ensure_aot_cache() {
    local cp=$1 cache dir j fresh=1 tmp log
    aot_cache_file
    cache=$REPLY
    dir=${cache%/*}
    if [ -f "$cache" ]; then
        for j in "$ISTHMUS_ROOT"/control/target/isthmus-control-*.jar "$ISTHMUS_ROOT"/control/target/lib/*.jar; do
            [ "$j" -nt "$cache" ] && fresh=0 && break
        done
    else
        fresh=0
    fi
    if [ "$fresh" = 0 ] && [ "${ISTHMUS_AOT:-1}" != 0 ] && { [ -d "$dir" ] || mkdir -p "$dir" 2>/dev/null; } \
            && [ -w "$dir" ] && ! [ "$dir/failed.${cache##*/}" -nt "${cp%%:*}" ]; then
        echo "$ISTHMUS_PROG: creating the start-up cache (once after each build)..." >&2
        tmp="$cache.$$.tmp"
        log="$dir/training.log"
        if "$JAVA_HOME/bin/java" "${ISTHMUS_JVM_FLAGS[@]}" -XX:AOTCacheOutput="$tmp" -cp "$cp" \
                io.isthmus.control.StartupTraining >"$log" 2>&1 </dev/null && [ -s "$tmp" ]; then
            mv -f "$tmp" "$cache"
            fresh=1
        else
            rm -f "$tmp" "$tmp.config"
            touch "$dir/failed.${cache##*/}"
            echo "$ISTHMUS_PROG: could not create the start-up cache (see $log); starting without it" >&2
        fi
    fi
    ISTHMUS_AOT_FLAGS=(-Xlog:aot*=off -Xlog:cds*=off)
    if [ "$fresh" = 1 ]; then
        ISTHMUS_AOT_FLAGS+=(-XX:AOTCache="$cache")
    fi
}
