"""Synthesise spoken digits with espeak-ng and turn them into MFCC frames.

Writes ``data/spoken_digits.npz``, the file ``04_speech_digits.py`` reads. The
file is committed, so the example runs without espeak-ng; this script is how
it was made. It needs Debian's ``espeak-ng`` (``apt-get install espeak-ng``).

The words "zero" … "nine" are spoken by seven of espeak-ng's English accents,
each with three voice variants, at three speeds and two pitches: 126
utterances per digit, 1,260 in all. Each utterance becomes 13 mel-frequency
cepstral coefficients per 10 ms frame (25 ms Hamming windows, 26 mel filters,
silence trimmed), computed here with numpy and scipy.

Run: ``python examples/make_spoken_digits.py``
"""

import io
import itertools
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
from scipy.fft import dct

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = [
    "en-gb",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
]
VARIANTS = ["m3", "f2", "f4"]
SPEEDS = [130, 170, 210]  # words per minute
PITCHES = [35, 65]  # espeak-ng's 0..99 scale
OUT = Path(__file__).parent / "data" / "spoken_digits.npz"


def speak(word, voice, speed, pitch):
    """Return espeak-ng's waveform (float in [-1, 1]) and its sample rate."""
    wav = subprocess.run(
        [
            "espeak-ng",
            "-v",
            voice,
            "-s",
            str(speed),
            "-p",
            str(pitch),
            "--stdout",
            word,
        ],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        frames = f.readframes(f.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768, rate


def mel_filters(n_filters, n_fft, rate):
    """Triangular filters evenly spaced in mels: (n_filters, n_fft // 2 + 1)."""
    mel = np.linspace(0, 2595 * np.log10(1 + rate / 2 / 700), n_filters + 2)
    hz = 700 * (10 ** (mel / 2595) - 1)
    bins = np.floor((n_fft + 1) * hz / rate).astype(int)
    bank = np.zeros((n_filters, n_fft // 2 + 1))
    for i in range(n_filters):
        left, centre, right = bins[i : i + 3]
        bank[i, left:centre] = (np.arange(left, centre) - left) / max(centre - left, 1)
        bank[i, centre:right] = (right - np.arange(centre, right)) / max(
            right - centre, 1
        )
    return bank


def mfcc(signal, rate, n_coefficients=13, n_filters=26):
    """13 MFCCs per 10 ms frame of the voiced part of ``signal``."""
    frame, hop = int(0.025 * rate), int(0.010 * rate)
    signal = np.append(signal[0], signal[1:] - 0.97 * signal[:-1])  # pre-emphasis
    starts = np.arange(0, len(signal) - frame, hop)
    frames = signal[starts[:, None] + np.arange(frame)] * np.hamming(frame)
    energy = (frames**2).sum(axis=1)
    voiced = np.flatnonzero(energy > 1e-3 * energy.max())
    frames = frames[voiced[0] : voiced[-1] + 1]  # trim leading/trailing silence
    n_fft = 1 << (frame - 1).bit_length()
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2 / n_fft
    bands = np.log(power @ mel_filters(n_filters, n_fft, rate).T + 1e-10)
    return dct(bands, type=2, norm="ortho", axis=1)[:, :n_coefficients]


def main():
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed; on Debian: apt-get install espeak-ng")
    features, labels, accents = [], [], []
    grid = itertools.product(WORDS, ACCENTS, VARIANTS, SPEEDS, PITCHES)
    for word, accent, variant, speed, pitch in grid:
        signal, rate = speak(word, f"{accent}+{variant}", speed, pitch)
        features.append(mfcc(signal, rate).astype(np.float32))
        labels.append(WORDS.index(word))
        accents.append(accent)
    lengths = np.array([len(f) for f in features])
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(
        OUT,
        frames=np.concatenate(features).astype(np.float16),
        lengths=lengths,
        digit=np.array(labels),
        accent=np.array(accents),
    )
    print(
        f"{len(features)} utterances, {lengths.min()}-{lengths.max()} frames of 13 "
        f"MFCCs, written to {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
