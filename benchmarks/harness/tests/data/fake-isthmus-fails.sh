#!/bin/sh
# A stand-in daemon for the harness tests that refuses to start.
echo "fake-isthmus: --export: NBD export not implemented" >&2
exit 1
