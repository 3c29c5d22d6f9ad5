"""The command's hyperparameter search: an Optuna ask-and-tell loop that resumes.

Every finished trial is in the study's storage (a journal file by default),
so a search that is stopped and run again with the same storage goes on
where it was: ``n_trials`` counts the complete and pruned trials the study
holds, not the ones run this time; a failed or interrupted trial is replaced.
"""

from __future__ import annotations

from .._history import TrainingDivergedError
from .output import progress


def run_trials(
    objective,
    space,
    *,
    n_trials,
    study_name,
    storage,
    direction,
    seed,
    show_progress=True,
):
    """Run trials until the study holds ``n_trials`` complete or pruned ones.

    ``objective(params, report)`` returns the score of one configuration;
    ``report(step, value)`` reports an intermediate score (one per fold) and
    raises ``optuna.TrialPruned`` when the pruner stops the trial. A trial
    whose training diverges is recorded as failed and the search goes on; a
    trial stopped by Ctrl-C is recorded as failed and the interrupt goes on
    up. Failed trials do not count toward ``n_trials``, so running the search
    again replaces them.

    Returns ``(best_params or None, summary dict)``.
    """
    import optuna
    from optuna.trial import TrialState

    from ..tuning import create_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = create_study(
        study_name,
        storage=storage,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3),
    )
    done = (TrialState.COMPLETE, TrialState.PRUNED)
    finished = (*done, TrialState.FAIL)
    before = len(study.get_trials(deepcopy=False, states=done))
    todo = max(0, n_trials - before)
    bar = progress(
        total=todo, desc="tuning (Optuna trials)", enabled=show_progress and todo > 0
    )
    for _ in range(todo):
        trial = study.ask(space)

        def report(step, value, trial=trial):
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            value = objective(dict(trial.params), report)
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
        except TrainingDivergedError:
            study.tell(trial, state=TrialState.FAIL)
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        else:
            study.tell(trial, value)
        bar.update()
    bar.close()
    trials = study.get_trials(deepcopy=False)
    count = {s.name.lower(): sum(t.state == s for t in trials) for s in finished}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    summary = {
        "study_name": study_name,
        "storage": str(storage),
        "trials_before_this_run": before,
        "trials_run": todo,
        **count,
    }
    if not complete:
        return None, summary
    best = study.best_trial
    summary.update(best_trial=best.number, best_value=best.value)
    return dict(best.params), summary


def search_line(summary) -> str:
    """One line saying how a search went, for the command's output."""
    return (
        f"Search: {summary['complete']} complete, {summary['pruned']} pruned, "
        f"{summary['fail']} failed trials in study {summary['study_name']!r}."
    )


def search_markdown(summary, caveat="") -> str:
    """The report's paragraph on the search (or on there being none)."""
    if summary is None:
        return "No search (pass --trials N to tune with Optuna)."
    return (
        f"Optuna study `{summary['study_name']}` in `{summary['storage']}`: "
        f"{summary['complete']} complete, {summary['pruned']} pruned, "
        f"{summary['fail']} failed trials; objective: {summary['objective']}."
        + (f" {caveat}" if caveat else "")
    )
