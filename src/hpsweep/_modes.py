"""The direction of a metric from its name, for the well-known names only.

``val_acc``, ``test/accuracy``, ``f1_macro``, ``roc_auc``, ``mean_reward``, ``episode_return``
and ``score`` are maximised; ``loss``, ``val_error``, ``mse``, ``rmse``, ``mae``, ``perplexity``
and ``regret`` are minimised. A name is split into words at anything that is not a letter or a
digit and at lower-to-upper case changes; a name whose words belong to one family only gives that
family's direction, every other name (no known word, or words of both families) gives None: the
caller then asks for the mode instead of guessing.

>>> infer_mode("val_acc"), infer_mode("valLoss"), infer_mode("throughput")
('max', 'min', None)
"""

from __future__ import annotations

import re

__all__ = ["MAX_WORDS", "MIN_WORDS", "infer_mode", "mode_note"]

MAX_WORDS = frozenset({"acc", "accuracy", "f1", "auc", "auroc", "reward", "rewards", "return",
                       "returns", "score", "precision", "recall", "iou", "map", "bleu"})
MIN_WORDS = frozenset({"loss", "error", "err", "mse", "rmse", "mae", "perplexity", "ppl",
                       "regret", "nll"})


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def infer_mode(metric: str) -> str | None:
    """``"max"``, ``"min"`` or None (the name does not tell)."""
    words = set(_words(metric))
    is_max, is_min = bool(words & MAX_WORDS), bool(words & MIN_WORDS)
    if is_max == is_min:
        return None
    return "max" if is_max else "min"


def mode_note(metric: str, mode: str) -> str:
    """The line that says which direction was inferred, and how to say the other."""
    verb = "maximising" if mode == "max" else "minimising"
    other = "min" if mode == "max" else "max"
    return f"{verb} {metric} (inferred from its name; give --mode {other} for the other direction)"
