#!/bin/sh
# A stand-in daemon for the harness tests: serves with qemu-storage-daemon (as a child, so the
# process tree is two deep), then crashes after FAKE_CRASH_AFTER seconds.
qemu-storage-daemon "$@" &
child=$!
sleep "${FAKE_CRASH_AFTER:-0.6}"
echo "fake-isthmus: simulated crash" >&2
kill -9 "$child"
exit 1
