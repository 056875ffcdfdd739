"""The client tools and daemons the harness needs, and the Debian packages that provide them."""
import os
import shutil
import subprocess

PACKAGES = {
    "qemu-storage-daemon": "qemu-system-common",
    "fio": "fio",
    "nbdkit": "nbdkit",
    "nbdcopy": "libnbd-bin",
    "gcc": "gcc",
    "qemu-img": "qemu-utils",
}


class DepsError(Exception):
    pass


def missing(tools, which=shutil.which):
    return [t for t in tools if not which(t)]


def install_hint(tools):
    pkgs = sorted({PACKAGES[t] for t in tools})
    return f"sudo apt-get install -y {' '.join(pkgs)}"


def ensure(tools, log=print, which=shutil.which, is_root=None):
    """Makes every tool available: installs the missing ones with apt-get when root, otherwise
    raises DepsError saying exactly what to install."""
    gone = missing(tools, which)
    if not gone:
        return
    is_root = (os.geteuid() == 0) if is_root is None else is_root
    pkgs = sorted({PACKAGES[t] for t in gone})
    if not is_root:
        raise DepsError(f"missing {', '.join(gone)}; install with: {install_hint(gone)}")
    log(f"compare: installing {' '.join(pkgs)} (for {', '.join(gone)})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q"] + pkgs
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise DepsError(f"apt-get install {' '.join(pkgs)} failed:\n{r.stderr[-2000:]}")
    still = missing(tools, which)
    if still:
        raise DepsError(f"still missing after apt-get: {', '.join(still)}")
