"""benchmarks/compare: runs qemu-storage-daemon, Isthmus and reference NBD servers side by side.

Modules: stats (medians, ratios), procfs (/proc parsing), fio (fio command and JSON),
workloads (what is measured), servers (how each daemon is started), daemon (process lifetime),
qmp (readiness over QMP), table (rendering), deps (tools), runner (the rounds), cli (arguments).
Python 3 standard library only.
"""
