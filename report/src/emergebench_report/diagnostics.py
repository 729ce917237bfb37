"""Emergence diagnostics for one scaling curve: score y against x = log10(parameter count).

Definitions (docs/analysis.md states them with examples):

* **Smooth vs sharp fit.** Two weighted least-squares fits, weights 1/se^2 from the bootstrap
  intervals (floored at ``SE_FLOOR`` so a noiseless point cannot dominate): a line
  ``y = a + b x`` (2 parameters) and a logistic ``y = lo + d / (1 + exp(-(x - x0) / s))``
  (4 parameters). The logistic is fitted by profiling: on a grid of (x0, s) the model is linear in
  (lo, d), solved exactly. AIC = chi^2 + 2k; ``delta_aic`` = AIC(line) - AIC(logistic).
* **Breakpoint** x0 with a 95% profile-likelihood interval: the x0 whose best chi^2 over (s, lo, d)
  is within 3.84 (chi-square, 1 dof, 95%) of the minimum. ``width`` is the 10%-90% rise of the
  fitted logistic in decades, 2 ln(9) s.
* **Verdict** ``sharp`` when the logistic beats the line by ``delta_aic >= 10`` and rises within
  half the observed span of x; ``smooth`` otherwise; ``too few models`` under ``MIN_MODELS``.
* **BIG-bench measures** (Srivastava et al. 2022, appendix B), with the points sorted by x,
  ``I(y) = sign(argmax y - argmin y)`` (+1 when the best model is larger than the worst):
  breakthroughness ``B = I(y) (max y - min y) / RootMedianSquare(y[i+1] - y[i])``, and linearity
  over the same consecutive differences ``L = sum(dy dx) / sqrt(sum(dy^2) sum(dx^2))``: the cosine
  between the score steps and the scale steps, 1 for a rising straight line, -1 for a falling one
  and 1/sqrt(m) for a single jump among m steps. (B is the paper's formula; L's normalisation is
  ours, see docs/analysis.md.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SE_FLOOR = 1e-3
CHI2_95_1DOF = 3.841458820694124
SHARP_DELTA_AIC = 10.0
MIN_MODELS = 5
B_CAP = 1e6
_X0_STEPS = 161
_S_STEPS = 40


@dataclass(frozen=True)
class Diagnosis:
    n_models: int
    linear_aic: float | None = None
    logistic_aic: float | None = None
    delta_aic: float | None = None
    breakpoint: float | None = None  # log10(parameters)
    breakpoint_low: float | None = None
    breakpoint_high: float | None = None
    width: float | None = None  # decades from 10% to 90% of the logistic rise
    linearity: float | None = None
    breakthroughness: float | None = None
    verdict: str = "too few models"

    def as_dict(self) -> dict[str, float | int | str | None]:
        return dict(self.__dict__)


def big_bench_measures(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """(linearity, breakthroughness) of points sorted by x, as defined in the module docstring."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    if len(y) < 2:
        return None, None
    sign = 1.0 if int(np.argmax(y)) - int(np.argmin(y)) > 0 else -1.0
    dy, dx = np.diff(y), np.diff(x)
    spread = float(y.max() - y.min())
    norm = math.sqrt(float(dy @ dy) * float(dx @ dx))
    linearity = float(dy @ dx) / norm if norm > 0 else 0.0
    rms = math.sqrt(float(np.median(dy**2)))
    if spread == 0.0:
        breakthrough = 0.0
    elif rms == 0.0:
        breakthrough = sign * B_CAP
    else:
        breakthrough = max(-B_CAP, min(B_CAP, sign * spread / rms))
    return linearity, breakthrough


def _wls(design: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
    resid = (design @ coef - y) * sw
    return coef, float(resid @ resid)


def _logistic_profile(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chi^2 of the best (lo, d) for every (x0, s) on the grid: returns (x0 grid, s grid, chi2[x0, s])."""
    span = float(x.max() - x.min())
    gaps = np.diff(np.unique(x))
    x0s = np.linspace(x.min() - 0.25 * span, x.max() + 0.25 * span, _X0_STEPS)
    s_low = max(1e-4, 0.02 * (float(gaps.min()) if len(gaps) else span))
    ss = np.geomspace(s_low, 2.0 * span, _S_STEPS)
    z = (x[None, None, :] - x0s[:, None, None]) / ss[None, :, None]
    f = 0.5 * (1.0 + np.tanh(z / 2.0))  # the logistic, without overflow
    # weighted normal equations for y ~ lo + d f, solved in closed form for every grid cell at once
    sw, swf, swff = w.sum(), (w * f).sum(-1), (w * f * f).sum(-1)
    swy, swfy = (w * y).sum(), (w * f * y).sum(-1)
    det = sw * swff - swf**2
    ok = det > 1e-12 * sw * np.maximum(swff, 1e-300)
    safe = np.where(ok, det, 1.0)
    d = np.where(ok, (sw * swfy - swf * swy) / safe, 0.0)
    lo = np.where(ok, (swy - d * swf) / sw, swy / sw)
    resid = lo[..., None] + d[..., None] * f - y[None, None, :]
    chi2 = (w * resid**2).sum(-1)
    return x0s, ss, chi2


def diagnose(x: np.ndarray, y: np.ndarray, se: np.ndarray | None = None) -> Diagnosis:
    """Diagnose one curve; ``se`` is each point's standard error (default ``SE_FLOOR``)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    se_arr = np.full(len(x), SE_FLOOR) if se is None else np.asarray(se, float)[keep]
    linearity, breakthrough = big_bench_measures(x, y)
    n = len(np.unique(x))
    if n < MIN_MODELS:
        return Diagnosis(len(x), linearity=linearity, breakthroughness=breakthrough)
    w = 1.0 / np.maximum(np.nan_to_num(se_arr, nan=SE_FLOOR), SE_FLOOR) ** 2
    _, lin_chi2 = _wls(np.column_stack([np.ones_like(x), x]), y, w)
    x0s, ss, chi2 = _logistic_profile(x, y, w)
    best = np.unravel_index(int(np.argmin(chi2)), chi2.shape)
    log_chi2 = float(chi2[best])
    lin_aic, log_aic = lin_chi2 + 4.0, log_chi2 + 8.0
    profile = chi2.min(axis=1)
    inside = x0s[profile <= log_chi2 + CHI2_95_1DOF]
    x0, s = float(x0s[best[0]]), float(ss[best[1]])
    width = 2.0 * math.log(9.0) * s
    span = float(x.max() - x.min())
    delta = lin_aic - log_aic
    sharp = delta >= SHARP_DELTA_AIC and width <= span / 2.0
    return Diagnosis(
        n_models=len(x),
        linear_aic=lin_aic,
        logistic_aic=log_aic,
        delta_aic=delta,
        breakpoint=x0,
        breakpoint_low=float(inside.min()),
        breakpoint_high=float(inside.max()),
        width=width,
        linearity=linearity,
        breakthroughness=breakthrough,
        verdict="sharp" if sharp else "smooth",
    )


def pair_verdict(headline: Diagnosis, continuous: Diagnosis) -> str:
    """What a metric pair says about one curve (the Mirage question)."""
    if "too few models" in (headline.verdict, continuous.verdict):
        return "too few models"
    if headline.verdict == "sharp" and continuous.verdict == "smooth":
        return "sharp under the headline metric only: likely a metric artifact"
    if headline.verdict == "sharp":
        return "sharp under both metrics"
    if continuous.verdict == "sharp":
        return "sharp under the continuous metric only"
    return "smooth under both metrics"
