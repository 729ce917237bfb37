"""Floor models for the leaderboard: ``mars/majority`` and ``mars/random``.

Both answer "yes"/"no" and return log-probabilities, so they also set the ROC-AUC floor (0.5).
``majority`` answers the most frequent label of the evaluated split, which the MARS tasks put in
each sample's metadata (computed before ``--limit``, so every subset sees the same answer);
``-M label=yes|no`` forces a constant instead. ``random`` answers yes with probability ``-M p_yes``
(default 0.5), seeded by the running sample's seed, so reruns give the same answers.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from emergebench import (
    GenerateConfig,
    Message,
    Model,
    ModelError,
    ModelInfo,
    ModelOutput,
    ModelProvider,
    TokenLogprob,
    Usage,
    UsageError,
)
from emergebench.context import current_context

from .schema import LABEL_WORDS

MAJORITY_KEY = "majority_label"


def _label_option(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("yes", "1", "plausible"):
        return 1
    if text in ("no", "0", "metaphysical"):
        return 0
    raise UsageError(f"-M label={value!r} is not a label: use yes or no")


def _output(label: int, p_yes: float) -> ModelOutput:
    word = LABEL_WORDS[label]
    top = {
        "yes": math.log(p_yes) if p_yes > 0 else -math.inf,
        "no": math.log(1 - p_yes) if p_yes < 1 else -math.inf,
    }
    # a finite floor keeps the records JSON-friendly while meaning "never"
    top = {k: (v if math.isfinite(v) else -1e9) for k, v in top.items()}
    return ModelOutput(
        text=word,
        usage=Usage(input_tokens=0, output_tokens=1),
        finish_reason="stop",
        logprobs=[TokenLogprob(token=word, logprob=top[word], top=top)],
    )


class MajorityModel(Model):
    supports_logprobs = True

    def __init__(self, options: dict[str, Any]) -> None:
        unknown = set(options) - {"label"}
        if unknown:
            raise UsageError(f"mars/majority takes only -M label=yes|no, got {sorted(unknown)}")
        self.forced = _label_option(options.get("label"))
        info = ModelInfo(id="mars/majority", provider="mars", name="majority", family="baseline", args=options)
        super().__init__(info.id, info)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        label = self.forced
        if label is None:
            ctx = current_context.get()
            label = ctx.sample.metadata.get(MAJORITY_KEY) if ctx is not None else None
        if label not in (0, 1):
            raise ModelError(
                "mars/majority needs a MARS task (it answers the majority label the task records per sample); "
                "with another task pass -M label=yes or -M label=no"
            )
        return _output(int(label), float(label))


class RandomModel(Model):
    supports_logprobs = True

    def __init__(self, options: dict[str, Any]) -> None:
        unknown = set(options) - {"p_yes"}
        if unknown:
            raise UsageError(f"mars/random takes only -M p_yes=FLOAT, got {sorted(unknown)}")
        try:
            self.p_yes = float(options.get("p_yes", 0.5))
        except (TypeError, ValueError) as exc:
            raise UsageError(f"-M p_yes={options.get('p_yes')!r} is not a number between 0 and 1") from exc
        if not 0.0 <= self.p_yes <= 1.0:
            raise UsageError(f"-M p_yes={self.p_yes} must lie between 0 and 1")
        info = ModelInfo(id="mars/random", provider="mars", name="random", family="baseline", args=options)
        super().__init__(info.id, info)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        ctx = current_context.get()
        if ctx is not None:
            seed: Any = ctx.seed
        else:
            seed = hashlib.sha256("\n".join(m.content for m in messages).encode()).hexdigest()
        draw = random.Random(f"mars-random:{seed}").random()
        label = 1 if draw < self.p_yes else 0
        # P(yes) = 1 - draw: uniform and independent of the gold label (AUC 0.5 in expectation),
        # and consistent with the answer (yes exactly when P(yes) > 1 - p_yes)
        score = 1.0 - draw
        top = {"yes": math.log(max(score, 1e-12)), "no": math.log(max(1.0 - score, 1e-12))}
        output = _output(label, self.p_yes)
        output.logprobs = [TokenLogprob(token=output.text, logprob=top[output.text], top=top)]
        return output


def make_baseline(name: str, options: dict[str, Any]) -> Model:
    if name == "majority":
        return MajorityModel(dict(options))
    if name == "random":
        return RandomModel(dict(options))
    raise UsageError(f"unknown MARS baseline {name!r}: use mars/majority or mars/random")


PROVIDER = ModelProvider(
    prefix="mars",
    factory=make_baseline,
    description="MARS floor baselines: always the majority label, or a seeded coin flip",
    known=["majority", "random"],
    open_names=False,
    options_help={
        "label": "majority: force a constant answer (yes or no) instead of the split's majority",
        "p_yes": "random: probability of answering yes (default 0.5)",
    },
)
