"""What a training call leaves in the estimator's fitted attributes: the
epochs it ran (``history_``, ``loss_curve_``, ``n_iter_``, ``best_loss_``) and,
for a divergence or an interrupt, the error or warning the user sees."""

from __future__ import annotations

import warnings


class TrainingDivergedError(FloatingPointError):
    """Training diverged (a non-finite loss, or a weight past 1e10); the last
    good weights are kept."""


def record(est, trained, incremental=False) -> None:
    """Append ``trained``'s epochs to ``est.history_`` and set the summary
    attributes (``loss_curve_``, ``n_iter_``, ``best_loss_``).

    An interrupt that leaves no finished epoch of this call, or any
    interrupt of ``partial_fit``, raises ``KeyboardInterrupt`` (the
    estimator's ``_train`` then puts it back as it was, so a user's loop
    stops); so does a divergence in the first epoch of a call (as
    :class:`TrainingDivergedError`, with the model left as it was)."""
    start = len(est.history_)
    est.history_ = list(est.history_)  # a new list: rollback keeps the old
    for i, row in enumerate(trained.history):
        if "train_loss" not in row or "dur" not in row:
            continue  # an epoch that an interrupt cut short
        entry = {"epoch": start + i + 1, "train_loss": float(row["train_loss"])}
        if "valid_loss" in row:
            entry["valid_loss"] = float(row["valid_loss"])
        if "event_lr" in row:  # the learning rate this epoch trained with
            entry["lr"] = float(row["event_lr"])
        entry["dur"] = float(row["dur"])
        est.history_.append(entry)
    reason = trained.stop_reason
    if reason == "diverged":
        est.history_.pop()  # the non-finite epoch's weights were discarded
    if est.history_ and reason in ("diverged", "interrupted", "converged"):
        # a new dict: the one in history_ may be shared with a rollback copy
        est.history_[-1] = {**est.history_[-1], "stopped": reason}
    est.loss_curve_ = [h["train_loss"] for h in est.history_]
    est.n_iter_ = len(est.history_)
    key = "valid_loss" if est.early_stopping else "train_loss"
    scores = [h[key] for h in est.history_ if key in h]
    est.best_loss_ = min(scores) if scores else None
    finished = len(est.history_) - start  # epochs of this call
    if reason == "diverged":
        kept = (
            f"the weights of epoch {est.n_iter_} were kept"
            if finished
            else "the estimator was left as it was before this call"
        )
        error = TrainingDivergedError(
            f"Training diverged in epoch {est.n_iter_ + 1}: "
            f"{trained.symptom}; {kept}. Lower lr (now {est.lr}), set "
            "clip_grad_norm, or scale the inputs."
        )
        error.untrained = not finished
        raise error
    if reason == "interrupted" and (incremental or not finished):
        raise KeyboardInterrupt  # nothing of this call to keep: roll back
    if reason == "interrupted":
        warnings.warn(
            f"Training was interrupted; the weights of the last finished epoch "
            f"({est.n_iter_}) were kept.",
            UserWarning,
            stacklevel=4,
        )
