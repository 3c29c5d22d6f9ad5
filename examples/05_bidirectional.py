"""Bidirectional LSTM: read each sequence forwards and backwards.

The seed article stacks two Bidirectional(LSTM(50)) layers; in sklstm that is
``LSTMRegressor(50, num_layers=2, bidirectional=True)``. This example compares
one and two directions on a real variable-length task, JapaneseVowels (nine
speakers, 12 LPC cepstrum channels, 7–29 frames per utterance, official
split). Each direction starts at each sequence's own first or last frame, so
the ragged lengths need no padding tricks.

Prints the summary and both test accuracies; saves their learning curves.

Run: ``python examples/05_bidirectional.py`` (about 9 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, SequenceScaler
from sklstm.datasets import load_japanese_vowels

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))

X_train, y_train = load_japanese_vowels(split="train")  # a list of (t_i, 12) arrays
X_test, y_test = load_japanese_vowels(split="test")

fig, ax = plt.subplots(figsize=(7, 4))
for bidirectional in (False, True):
    lstm = LSTMClassifier(
        50,
        num_layers=2,
        bidirectional=bidirectional,
        lr=3e-3,
        batch_size=16,
        max_epochs=2 if QUICK else 40,
        random_state=0,
    )
    model = make_pipeline(SequenceScaler(), lstm).fit(X_train, y_train)
    name = "bidirectional" if bidirectional else "unidirectional"
    print(f"{name}: test accuracy {model.score(X_test, y_test):.3f}")
    ax.plot(lstm.loss_curve_, label=name)
print(lstm.summary())

OUT.mkdir(parents=True, exist_ok=True)
ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="JapaneseVowels")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "bidirectional_loss.png", dpi=100)
print(f"learning curves saved to {OUT / 'bidirectional_loss.png'}")
