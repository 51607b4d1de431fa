"""The fixed instances of ``tests/data/batch_picks.json``: greedy batch picks and scores.

The file was written by the float64 kernel that came before the float32 screen
(``python tests/batch_picks_fixture.py`` with the kernel of commit 8fda709). The
screened kernel must make the same picks with the same scores
(tests/test_batch_screen.py). Rewrite the file only for a deliberate change of
picks, and say why in the commit.

The instances run the raw greedy objective (``on_saturation="continue"``): some
go on past the point where their batch is spent (``bald-confident`` reaches
log K after 4 of its 6 picks), and the file records the kernel, not the policy.
Exact ties are broken by seeded keys since the saturation work; the file keeps
the first copy of a duplicated point, so a duplicated case is compared modulo
its copies (``n``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PICKS = Path(__file__).resolve().parent / "data" / "batch_picks.json"

#: name -> (function, n points, K, C, logit scale, batch size, duplicated pool)
CASES = {
    "bald-wide": ("batch_bald", 1500, 12, 10, 3.0, 4, False),
    "bald-confident": ("batch_bald", 1200, 20, 4, 8.0, 6, False),
    "bald-duplicated": ("batch_bald", 300, 10, 5, 2.0, 4, True),
    "bald-eager": ("batch_bald_eager", 800, 8, 6, 3.0, 4, False),
    "evaluation-bald": ("batch_evaluation_bald", 800, 10, 5, 3.0, 4, False),
    "eig": ("batch_eig", 800, 10, 5, 3.0, 4, False),
}


def log_probs(seed, n, k, c, scale, duplicated):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(n, k, c))
    values = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return np.concatenate([values, values]) if duplicated else values


def compute():
    from skal_power.batch import batch_bald, batch_eig, batch_evaluation_bald

    raw = dict(on_saturation="continue", random_state=0)
    picks = {}
    for seed, (name, (function, n, k, c, scale, b, duplicated)) in enumerate(CASES.items()):
        first = log_probs(seed, n, k, c, scale, duplicated)
        if function == "batch_bald":
            indices, scores = batch_bald(first, b, **raw)
        elif function == "batch_bald_eager":
            indices, scores = batch_bald(first, b, lazy=False, **raw)
        else:
            second = log_probs(seed + 100, n, k, c, scale, duplicated)
            if function == "batch_eig":
                indices, scores = batch_eig(first, second[:, :1], b, **raw)
            else:
                indices, scores = batch_evaluation_bald(first, second, b, **raw)
        picks[name] = {"indices": indices.tolist(), "scores": scores.tolist()}
    return picks


if __name__ == "__main__":
    PICKS.write_text(json.dumps(compute(), indent=1) + "\n")
    print(f"wrote {PICKS}")
