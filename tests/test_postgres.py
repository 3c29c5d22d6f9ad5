"""Optuna studies shared through a real PostgreSQL server.

The fixture starts a throwaway server from Debian's ``postgresql`` binaries
(``make test`` installs them when they are missing): ``initdb`` in a temporary
folder, run as the unprivileged ``postgres`` user when the tests run as root
(PostgreSQL refuses root), on a free local port; it is stopped and its folder
removed after the tests, even when they fail.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

pytest.importorskip("psycopg")  # SQLAlchemy 2.1's PostgreSQL driver

from test_studies import COMPLETE, _complete, _worker, race  # noqa: E402

pytestmark = pytest.mark.xdist_group("postgres")  # one server per run (loadgroup)


def _binaries():
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(versions[-1]) if versions else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A database on a throwaway PostgreSQL server; stopped afterwards."""
    bindir = _binaries()
    if bindir is None:
        # make test's postgres target installs Debian's postgresql first; this
        # is reached only where that failed (no root and no sudo), as it says
        pytest.skip(
            "no PostgreSQL binaries (pg_ctl on PATH or /usr/lib/postgresql/*/bin): "
            "`make postgres` installs Debian's postgresql"
        )
    root = tempfile.mkdtemp(prefix="sklstm-pg-")
    os.chmod(root, 0o755)
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), _free_port()

    def run(*command):
        done = subprocess.run(
            [*as_user, os.path.join(bindir, command[0]), *command[1:]],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        run("initdb", "-D", data, "--auth=trust", "-U", "postgres", "-E", "UTF8")
        run("pg_ctl", "-D", data, "-o", options, "-l", f"{root}/log", "-w", "start")
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "studies")
        yield f"postgresql://postgres@127.0.0.1:{port}/studies"
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                [*as_user, os.path.join(bindir, "pg_ctl"), "-D", data, "-m",
                 "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def test_four_workers_share_a_postgres_study_through_a_kill(postgres_url, tmp_path):
    """Check that four processes share one study on PostgreSQL; one is killed
    mid-search and started again, and every finished trial is kept, none is
    duplicated, and the killed one's running trial is the only one left
    unfinished."""
    workers = [_worker(tmp_path, postgres_url, 3) for _ in range(3)]
    victim = _worker(tmp_path, postgres_url, 200)
    deadline = time.monotonic() + 180
    while len(_complete(postgres_url)) < 2:
        assert victim.poll() is None, victim.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "no trial finished in 180 s"
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    before = set(_complete(postgres_url))
    again = _worker(tmp_path, postgres_url, 3)
    for w in [*workers, again]:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err[-2000:]
    from sklstm.tuning import create_study

    trials = create_study("shared", storage=postgres_url).trials
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) == max(numbers) + 1  # none lost or doubled
    after = {t.number for t in trials if t.state == COMPLETE}
    assert before <= after
    unfinished = [t for t in trials if t.state != COMPLETE]
    assert len(unfinished) <= 1  # the trial the kill interrupted, if it had begun
    assert len(after) >= 3 * 3 + 3  # the three workers' and the restarted one's


def test_workers_that_create_one_postgres_study_at_once_all_get_it(
    postgres_url, tmp_path
):
    """Check create_study's retries against PostgreSQL: four processes creating
    the same new study in a fresh database at the same instant all get it."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE DATABASE race")
    base, _, _ = postgres_url.rpartition("/")
    outputs = race(tmp_path, f"{base}/race")
    assert len({out.strip() for out, _ in outputs}) == 1
