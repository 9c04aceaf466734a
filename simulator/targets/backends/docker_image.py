"""The targets image: its name, the hash of what goes into it, and whether the engine has it.

``docker/build-images.sh`` (``make images``) labels the image it builds with
``gameday.sources`` = :func:`sources_hash` (the Dockerfile, the requirements and the files of the
``simulator`` package a container runs), and skips the build when an image with that label exists. The docker
backend reads the same label to warn when the image is older than the code.

``python -m simulator.targets.backends.docker_image hash`` prints the hash (used by the script).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

IMAGE = os.environ.get("GAMEDAY_DOCKER_IMAGE", "gameday/targets:latest")
ROOT = Path(__file__).resolve().parents[3]  # the checkout: docker/ and simulator/ side by side
PACKAGE = ROOT / "simulator"
DOCKER_DIR = ROOT / "docker"
SOURCES_LABEL = "gameday.sources"
BUILD_HINT = "build it with 'make images' (offline: a debootstrap base image, no registry needed)"


def package_files(package: Path = PACKAGE) -> list[Path]:
    """The files copied into the image: the package minus bytecode caches."""
    files = []
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        files += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith((".pyc", ".pyo"))]
    return files


#: What a target container runs: the apps, the backends' entry and what they import (checked by
#: importing them). The image holds the whole package, but only these decide whether it is stale,
#: so edits elsewhere (runner, tracker, ...) neither rebuild it nor warn.
RUNTIME = ("__init__.py", "errors.py", "runs.py", "targets")


def sources_hash(root: Path = ROOT) -> str:
    h = hashlib.sha256()
    package = root / "simulator"
    runtime = [p for p in package_files(package) if p.relative_to(package).parts[0] in RUNTIME]
    inputs = [root / "docker" / "Dockerfile", root / "docker" / "requirements.txt", *runtime]
    for path in inputs:
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()[:16]


def main(argv: list[str]) -> int:
    if argv == ["hash"]:
        print(sources_hash())
        return 0
    print("usage: python -m simulator.targets.backends.docker_image hash", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
