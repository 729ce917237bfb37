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
* **BIG-bench measures** (Srivastava et al. 2022, "Beyond the Imitation Game", appendix B), over
  the points ordered by x (only the order of x enters), with
  ``I(y) = sign(argmax y - argmin y) (max y - min y)`` (positive when the best model is larger than
  the worst): linearity ``L = I(y) / RootMeanSquare(y[i+1] - y[i])`` and breakthroughness
  ``B = I(y) / RootMedianSquare(y[i+1] - y[i])``. They differ only in mean against median: m equal
  steps give L = B = m, while one jump among m steps gives L = sqrt(m) and B unbounded (capped at
  ``B_CAP``).
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
    """(linearity, breakthroughness) of the points ordered by x, as defined in the module docstring."""
    order = np.argsort(x, kind="stable")
    y = np.asarray(y, float)[order]
    if len(y) < 2:
        return None, None
    sign = 1.0 if int(np.argmax(y)) - int(np.argmin(y)) > 0 else -1.0
    rise = sign * float(y.max() - y.min())  # I(y)
    squares = np.diff(y) ** 2
    return _ratio(rise, math.sqrt(float(squares.mean()))), _ratio(rise, math.sqrt(float(np.median(squares))))


def _ratio(rise: float, typical_step: float) -> float:
    """I(y) over a typical step: 0 for a flat curve, capped at +-B_CAP when the typical step is 0."""
    if rise == 0.0:
        return 0.0
    if typical_step == 0.0:
        return math.copysign(B_CAP, rise)
    return max(-B_CAP, min(B_CAP, rise / typical_step))


def _wls(design: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
    resid = (design @ coef - y) * sw
    return coef, float(resid @ resid)


def _logistic_basis(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (x0, s) grid and the logistic's values on it for every x, flattened to (grid cells, points)."""
    span = float(x.max() - x.min())
    gaps = np.diff(np.unique(x))
    x0s = np.linspace(x.min() - 0.25 * span, x.max() + 0.25 * span, _X0_STEPS)
    s_low = max(1e-4, 0.02 * (float(gaps.min()) if len(gaps) else span))
    ss = np.geomspace(s_low, 2.0 * span, _S_STEPS)
    z = (x[None, None, :] - x0s[:, None, None]) / ss[None, :, None]
    f = (0.5 * (1.0 + np.tanh(z / 2.0))).reshape(-1, len(x))  # the logistic, without overflow
    return x0s, ss, f


def _logistic_profiles(x: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chi^2 of the best (lo, d) for every curve and every (x0, s) on the grid, for curves sharing x
    (``ys`` and their weights ``ws`` are curves x points): returns (x0 grid, s grid, chi2[curve, x0, s]).

    For each grid cell y ~ lo + d f is a weighted linear least-squares problem whose normal equations
    need only the weighted sums of f, f^2 and f y; for all curves at once these are two matrix
    products, and the minimum is chi^2 = sum(w y^2) - lo sum(w y) - d sum(w f y).
    """
    x0s, ss, f = _logistic_basis(x)
    sw, swy, swyy = ws.sum(1), (ws * ys).sum(1), (ws * ys * ys).sum(1)  # per curve
    sums = f @ np.concatenate([ws, ws * ys]).T  # grid cells x 2 curves
    swf, swfy = sums[:, : len(ys)].T, sums[:, len(ys) :].T  # curves x grid cells
    swff = ((f * f) @ ws.T).T
    sw, swy, swyy = sw[:, None], swy[:, None], swyy[:, None]
    det = sw * swff - swf**2
    ok = det > 1e-12 * sw * np.maximum(swff, 1e-300)
    safe = np.where(ok, det, 1.0)
    d = np.where(ok, (sw * swfy - swf * swy) / safe, 0.0)
    lo = np.where(ok, (swy - d * swf) / sw, swy / sw)
    chi2 = np.maximum(swyy - lo * swy - d * swfy, 0.0)
    return x0s, ss, chi2.reshape(len(ys), len(x0s), len(ss))


def diagnose(x: np.ndarray, y: np.ndarray, se: np.ndarray | None = None) -> Diagnosis:
    """Diagnose one curve; ``se`` is each point's standard error (default ``SE_FLOOR``)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    se_arr = np.full(len(x), SE_FLOOR) if se is None else np.asarray(se, float)
    return diagnose_many(x[keep], [y[keep]], [se_arr[keep]])[0]


def diagnose_many(x: np.ndarray, ys: list[np.ndarray], ses: list[np.ndarray]) -> list[Diagnosis]:
    """Diagnose curves over the same finite x (one family's models on several tasks and metrics):
    the logistic grid is evaluated once and every curve's fit is read from two matrix products."""
    x = np.asarray(x, float)
    measures = [big_bench_measures(x, y) for y in ys]
    if len(np.unique(x)) < MIN_MODELS or not ys:
        return [Diagnosis(len(x), linearity=lin, breakthroughness=bt) for lin, bt in measures]
    y_mat = np.array(ys, dtype=float)
    w_mat = 1.0 / np.maximum(np.nan_to_num(np.array(ses, dtype=float), nan=SE_FLOOR), SE_FLOOR) ** 2
    x0s, ss, chi2s = _logistic_profiles(x, y_mat, w_mat)
    design = np.column_stack([np.ones_like(x), x])
    span = float(x.max() - x.min())
    out = []
    for y, w, chi2, (linearity, breakthrough) in zip(y_mat, w_mat, chi2s, measures, strict=True):
        _, lin_chi2 = _wls(design, y, w)
        best = np.unravel_index(int(np.argmin(chi2)), chi2.shape)
        log_chi2 = float(chi2[best])
        lin_aic, log_aic = lin_chi2 + 4.0, log_chi2 + 8.0
        inside = x0s[chi2.min(axis=1) <= log_chi2 + CHI2_95_1DOF]
        x0, s = float(x0s[best[0]]), float(ss[best[1]])
        width = 2.0 * math.log(9.0) * s
        delta = lin_aic - log_aic
        sharp = delta >= SHARP_DELTA_AIC and width <= span / 2.0
        out.append(
            Diagnosis(
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
        )
    return out


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
