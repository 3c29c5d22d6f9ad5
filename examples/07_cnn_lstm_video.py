"""CNN + LSTM: classify which way a shape moves in short videos.

The seed article wraps Conv2D and MaxPooling2D in TimeDistributed and feeds
the frames' features to an LSTM. In sklstm the same model is
``LSTMClassifier(32, conv_channels=(16, 32), frame_pooling="flatten")`` on
image sequences ``(n_videos, n_frames, height, width, channels)``: every frame
goes through Conv2d + ReLU + max pooling layers, its last feature map is
flattened, and the LSTM reads the frames' features in order. (The default,
``frame_pooling="average"``, pools each map to one value per channel: smaller,
but blind to where in the frame things are, and here position is the task.)

The videos are generated: a square of random colour and size crosses a noisy
background in one of four directions. One frame alone cannot tell the
direction; the order of frames can.

Prints the test accuracy and saves a strip of frames.

Run: ``python examples/07_cnn_lstm_video.py`` (about 10 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sklstm import LSTMClassifier

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))
DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
FRAMES, SIZE = 8, 20


def make_videos(n, rng):
    """``n`` videos (n, FRAMES, SIZE, SIZE, 3) in [0, 1] and their directions."""
    videos = rng.uniform(0, 0.3, size=(n, FRAMES, SIZE, SIZE, 3)).astype(np.float32)
    labels = rng.choice(list(DIRECTIONS), size=n)
    for video, label in zip(videos, labels, strict=True):
        side = rng.integers(3, 6)
        speed = rng.integers(1, 3)
        dy, dx = np.array(DIRECTIONS[label]) * speed
        # start so the whole path stays inside the frame
        y0 = rng.integers(
            max(0, -dy * (FRAMES - 1)), SIZE - side - max(0, dy * (FRAMES - 1)) + 1
        )
        x0 = rng.integers(
            max(0, -dx * (FRAMES - 1)), SIZE - side - max(0, dx * (FRAMES - 1)) + 1
        )
        colour = rng.uniform(0.5, 1.0, size=3)
        for t in range(FRAMES):
            y, x = y0 + dy * t, x0 + dx * t
            video[t, y : y + side, x : x + side] = colour
    return videos, labels


rng = np.random.default_rng(0)
X, y = make_videos(200 if QUICK else 800, rng)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
model = LSTMClassifier(
    32,
    # per frame: Conv2d(3->16) and Conv2d(16->32), each with ReLU and 2x2 max pooling
    conv_channels=(16, 32),
    frame_pooling="flatten",  # keep where things are in the frame, as Keras's Flatten
    lr=3e-3,
    max_epochs=2 if QUICK else 15,
    random_state=0,
)
model.fit(X_train, y_train)
print(model.summary())
accuracy = model.score(X_test, y_test)
print(f"direction of motion, test accuracy: {accuracy:.3f} (chance 0.25)")

OUT.mkdir(parents=True, exist_ok=True)
fig, axes = plt.subplots(2, FRAMES, figsize=(FRAMES * 1.2, 3))
for row, video, label in zip(axes, X_test[:2], y_test[:2], strict=True):
    for t, ax in enumerate(row):
        ax.imshow(video[t])
        ax.set_axis_off()
    row[0].set_title(
        f"{label}, predicted {model.predict(video[None])[0]}", loc="left", fontsize=9
    )
fig.tight_layout()
fig.savefig(OUT / "cnn_lstm_frames.png", dpi=100)
print(f"frames saved to {OUT / 'cnn_lstm_frames.png'}")
