"""Next-word text generation: an LSTM language model of Shakespeare's Sonnets.

The seed article trains an LSTM on one sentence to predict the next word. Here
it learns from all 154 Sonnets (public domain, Project Gutenberg; see
``data/README.md``). Each sample is the previous ``CONTEXT`` word ids (0 is
padding, 1 stands for a word seen only once); ``embedding_dim`` turns ids into
vectors before the LSTM. The last tenth of the text is held out.

Prints held-out top-1 and top-10 accuracy against always guessing the most
frequent words, then writes a continuation by sampling ``predict_proba``.

Run: ``python examples/02_text_generation.py`` (about 7 s on two cores).
"""

import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from sklstm import LSTMClassifier, make_windows

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
CONTEXT = 5

text = (Path(__file__).parent / "data" / "shakespeare_sonnets.txt").read_text()
lines = [
    line
    for line in text.lower().splitlines()
    if not re.fullmatch(r"\s*[ivxlc]+\s*", line)
]
words = re.findall(r"[a-z]+(?:'[a-z]+)*", " ".join(lines[2:]))  # skip the title lines
held_out = int(0.9 * len(words))  # the last tenth of the text is the test
if QUICK:
    words, held_out = words[:3000], 2500
counts = Counter(words[:held_out])  # the vocabulary comes from the training text only
vocabulary = ["<pad>", "<rare>"] + sorted(w for w, c in counts.items() if c > 1)
word_id = {w: i for i, w in enumerate(vocabulary)}
ids = np.array([word_id.get(w, 1) for w in words])
print(
    f"{len(words):,} words; vocabulary of {len(vocabulary) - 2:,} words "
    "seen twice or more"
)

# X[i] = ids[i : i + CONTEXT], y[i] = ids[i + CONTEXT]: the seed's loop in one call.
X, y = make_windows(ids[:, None], CONTEXT)
X, y = X[:, :, 0].astype(int), y.astype(int)  # 2-D token ids, (n_samples, CONTEXT)
split = held_out - CONTEXT
model = LSTMClassifier(
    128,
    embedding_dim=64,
    lr=3e-3,
    batch_size=128,
    max_epochs=2 if QUICK else 30,
    early_stopping=True,  # stop when the last 10 % of the training text stops improving
    n_iter_no_change=2,
    random_state=0,
)
model.fit(X[:split], y[:split])
valid = [h["valid_loss"] for h in model.history_]
print(
    f"trained {model.n_iter_} epochs; kept epoch {np.argmin(valid) + 1}, "
    "the best on validation"
)

# Perplexity: exp of the mean negative log-probability of each held-out next word.
truth = y[split:]
proba = model.predict_proba(X[split:])
column = {c: j for j, c in enumerate(model.classes_)}
p_true = np.array(
    [proba[i, column[t]] if t in column else 0.0 for i, t in enumerate(truth)]
)
# The baseline: each word's frequency among the training targets.
frequency = np.bincount(y[:split], minlength=len(vocabulary)) / split
top10 = model.classes_[np.argsort(-proba, axis=1)[:, :10]]
model_perplexity = np.exp(-np.log(np.maximum(p_true, 1e-9)).mean())
unigram_perplexity = np.exp(-np.log(np.maximum(frequency[truth], 1e-9)).mean())
in_top10 = np.mean((top10 == truth[:, None]).any(axis=1))
frequent_top10 = np.mean(np.isin(truth, np.argsort(-frequency)[:10]))
print(
    f"held-out perplexity {model_perplexity:.0f} (word frequencies alone: "
    f"{unigram_perplexity:.0f}); next word in the top 10: {in_top10:.3f} "
    f"(10 most frequent words: {frequent_top10:.3f})"
)

rng = np.random.default_rng(0)
context = [word_id.get(w, 1) for w in "shall i compare thee to".split()]
generated = []
for _ in range(30):
    p = model.predict_proba(np.array([context[-CONTEXT:]]))[0]
    p = p ** (1 / 0.7)  # temperature 0.7: a little bolder than the argmax
    p[model.classes_ == 1] = 0  # never write "<rare>"
    word = int(rng.choice(model.classes_, p=p / p.sum()))
    context.append(word)
    generated.append(vocabulary[word])
print("shall i compare thee to ... " + " ".join(generated))
