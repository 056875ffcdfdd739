#!/bin/sh
# A stand-in daemon for the harness tests without a vhost-user-blk export driver: refuses such an export
# with QEMU's text for an unknown export type, as a build without the driver does.
for a in "$@"; do
    case $a in
        *vhost-user-blk*) echo "fake-isthmus: --export $a: No driver found for the requested export type" >&2; exit 1 ;;
    esac
done
echo "fake-isthmus: only vhost-user-blk setups are expected here" >&2
exit 1
