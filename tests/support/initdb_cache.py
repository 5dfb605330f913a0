"""Fresh test clusters as copies of one initdb, kept per PostgreSQL version.

initdb is most of what starting a throwaway cluster costs (it bootstraps the whole catalog:
seconds on a busy 2-core machine); copying its output is a fraction of that. A copy differs
from a new initdb only in sharing the system identifier, which nothing here looks at. The
development cluster (`make run`) and .ci/run's cluster still run initdb itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from app.db import local
from tests.support.paths import ROOT

CACHE = ROOT / ".data" / "test-initdb"  # .data/ is git-ignored; `rm -rf .data` clears it


def fresh_cluster(data_dir: Path) -> local.LocalCluster:
    """A never-started cluster in `data_dir` (which must not exist yet), on a free port."""
    shutil.copytree(_initdb_output(), data_dir, symlinks=True)
    if os.geteuid() == 0:  # the server runs as `postgres`
        uid, gid = _server_user_ids()
        for path in [data_dir, *data_dir.rglob("*")]:
            os.lchown(path, uid, gid)
    cluster = local.LocalCluster(data_dir)
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {local.free_port()}\n")  # the last setting wins
        conf.write("max_wal_size = '256MB'\n")  # in memory (cluster_parent): recycle early
    return cluster


def _initdb_output() -> Path:
    """The cached output of `initdb` for the installed server, made on first use."""
    version = subprocess.run(
        [local.find_binary("initdb"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    cached = CACHE / "".join(c if c.isalnum() else "_" for c in version.strip())
    if (cached / "PG_VERSION").exists():
        return cached
    with tempfile.TemporaryDirectory(prefix="auth-service-initdb-") as workdir:
        Path(workdir).chmod(0o755)  # the server user writes in it when we are root
        local.LocalCluster(Path(workdir) / "data").init(durable=False)
        CACHE.mkdir(parents=True, exist_ok=True)
        incoming = CACHE / f".incoming-{uuid.uuid4().hex}"
        shutil.copytree(Path(workdir) / "data", incoming, symlinks=True)
    try:
        incoming.rename(cached)  # atomic: a run racing us leaves one whole copy
    except OSError:
        shutil.rmtree(incoming)  # that run won
    return cached


def _server_user_ids() -> tuple[int, int]:
    entry = pwd.getpwnam(local.SERVER_USER)
    return entry.pw_uid, entry.pw_gid
