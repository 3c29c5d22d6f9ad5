"""Speech: recognise spoken digits from MFCC frames with an LSTM.

The seed article's "speech" example predicts a sine wave. Here the audio is
real speech: the digits "zero" … "nine" synthesised by espeak-ng in seven
English accents, turned into 13 MFCCs per 10 ms frame by
``make_spoken_digits.py`` (its output, ``data/spoken_digits.npz``, is
committed). Utterances have different lengths, so X is a list of
``(n_frames_i, 13)`` arrays; the LSTM reads each up to its own end.

The test accents are never heard in training: five accents train, two test.
Prints the test accuracy and saves a confusion matrix.

Run: ``python examples/04_speech_digits.py`` (about 12 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, SequenceScaler

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))
TEST_ACCENTS = ["en-029", "en-gb-x-gbcwmd"]

data = np.load(Path(__file__).parent / "data" / "spoken_digits.npz")
utterances = np.split(
    data["frames"].astype(np.float32), np.cumsum(data["lengths"])[:-1]
)
digits, accents = data["digit"], data["accent"]
test = np.isin(accents, TEST_ACCENTS)
X_train = [u for u, t in zip(utterances, test, strict=True) if not t]
X_test = [u for u, t in zip(utterances, test, strict=True) if t]
y_train, y_test = digits[~test], digits[test]
print(
    f"{len(X_train)} training utterances, {len(X_test)} test utterances "
    f"(accents {', '.join(TEST_ACCENTS)} held out)"
)

model = make_pipeline(
    SequenceScaler(),  # standardise each MFCC over the training frames
    LSTMClassifier(
        64,
        num_layers=2,
        dropout=0.2,
        lr=3e-3,
        max_epochs=3 if QUICK else 40,
        random_state=0,
    ),
)
model.fit(X_train, y_train)
predicted = model.predict(X_test)
print(f"test accuracy on unheard accents: {accuracy_score(y_test, predicted):.3f}")

OUT.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(6, 5))
ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=ax, colorbar=False)
ax.set_title("Spoken digits, unheard accents")
fig.tight_layout()
fig.savefig(OUT / "speech_digits_confusion.png", dpi=100)
print(f"confusion matrix saved to {OUT / 'speech_digits_confusion.png'}")
