"""Persistent, resumable, shared Optuna studies (sklstm.tuning.create_study)."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest

from sklstm.tuning import create_study

optuna.logging.set_verbosity(optuna.logging.WARNING)
COMPLETE = optuna.trial.TrialState.COMPLETE

WORKER = """
import sys, warnings
import numpy as np, optuna
from optuna_integration import OptunaSearchCV
from sklearn.model_selection import TimeSeriesSplit
from sklstm import LSTMRegressor
from sklstm.tuning import create_study, search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")
storage, n_trials = sys.argv[1], int(sys.argv[2])
study = create_study("shared", storage=storage)
X = np.random.default_rng(0).normal(size=(80, 5, 1))
est = LSTMRegressor(4, max_epochs=2, batch_size=64, random_state=0)
space = search_space(est, include=["hidden_size", "lr"])
OptunaSearchCV(est, space, cv=TimeSeriesSplit(2), n_trials=n_trials, study=study,
               refit=False).fit(X, X[:, -1, 0])
print("done", len(study.trials))
"""


def _worker(tmp_path, storage, n_trials):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    return subprocess.Popen(
        [sys.executable, str(script), str(storage), str(n_trials)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _complete(storage):
    study = create_study("shared", storage=storage)
    return [t.number for t in study.trials if t.state == COMPLETE]


def test_a_study_loads_where_it_exists_and_checks_its_direction(tmp_path, monkeypatch):
    """Check that create_study reloads an existing study, refuses another direction for
    it, and says what is wrong with a bad storage or direction."""
    monkeypatch.chdir(tmp_path)
    study = create_study("s")  # the default: a journal file in the working folder
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert (tmp_path / "sklstm-optuna.journal").is_file()
    assert len(create_study("s").trials) == 2
    with pytest.raises(ValueError, match="exists with direction 'maximize'"):
        create_study("s", direction="minimize")
    assert create_study("t", storage=f"sqlite:///{tmp_path}/t.db").trials == []
    with pytest.raises(ValueError, match="the folder .* does not exist"):
        create_study("s", storage=tmp_path / "missing" / "s.journal")
    with pytest.raises(ValueError, match="Cannot open the Optuna storage 'nosuch://x'"):
        create_study("s", storage="nosuch://x")
    with pytest.raises(ValueError, match="direction must be"):
        create_study("s", direction="up")


def test_a_killed_search_resumes_with_its_finished_trials(tmp_path):
    """Check that a killed search keeps its finished trials when it runs again."""
    storage = tmp_path / "study.journal"
    worker = _worker(tmp_path, storage, 200)
    deadline = time.monotonic() + 120
    while len(_complete(storage)) < 2:
        assert worker.poll() is None, worker.stderr.read()
        assert time.monotonic() < deadline, "no trial finished in 120 s"
        time.sleep(0.2)
    os.kill(worker.pid, signal.SIGKILL)  # no clean-up at all
    worker.wait()
    finished = _complete(storage)
    again = _worker(tmp_path, storage, 3)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    after = _complete(storage)
    assert set(finished) <= set(after)  # every finished trial kept
    assert len(after) == len(finished) + 3


def test_two_workers_share_one_study(tmp_path):
    """Check that two worker processes share one study, losing or doubling no trial."""
    storage = tmp_path / "study.journal"
    workers = [_worker(tmp_path, storage, 3) for _ in range(2)]
    for w in workers:
        out, err = w.communicate(timeout=180)
        assert w.returncode == 0, err
    study = create_study("shared", storage=storage)
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(6))  # none lost, none duplicated
    assert all(t.state == COMPLETE for t in study.trials)


RACER = """
import sys, time, optuna
from sklstm.tuning import create_study
optuna.logging.set_verbosity(optuna.logging.WARNING)
start = float(sys.argv[2])
while time.time() < start:
    pass
print("study", create_study("race", storage=sys.argv[1])._study_id)
"""


def race(tmp_path, url, racers=4):
    """``racers`` processes create the study "race" in ``url`` at one instant
    (after their imports); each must succeed. Their outputs."""
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    start = time.time() + 4  # after the imports
    running = [
        subprocess.Popen(
            [sys.executable, str(script), url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(racers)
    ]
    outputs = [r.communicate(timeout=120) for r in running]
    for racer, (_, err) in zip(running, outputs, strict=True):
        assert racer.returncode == 0, err[-2000:]
    return outputs


def test_workers_that_create_one_rdb_study_at_once_all_get_it(tmp_path):
    """Check that four processes creating the same new study in a fresh SQLite file at
    the same instant all get it. Before create_study retried, one in four or so
    failed with 'table alembic_version already exists' (measured)."""
    outputs = race(tmp_path, f"sqlite:///{tmp_path}/race.db")
    assert {out.strip() for out, _ in outputs} == {"study 1"}
