"""The two interfaces every BoxingGym world implements: an environment (prior, simulator,
likelihood, designs) and its goals (evaluation points, questions, answer parsing, errors).

Parameters are dicts of arrays whose first axis is a batch of prior or posterior draws, so the
same code simulates one world, scores a thousand posterior samples, or runs the prior baseline.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypedDict

import lazy_loader as lazy
import numpy as np

from .priors import Prior

special = lazy.load(
    "scipy.special", suppress_warning=True
)  # scipy loads on first use: registering the plugin stays cheap

Params = dict[str, np.ndarray]
Mode = Literal["fixed", "paper"]
Outcome = Literal["binary", "count", "continuous", "deterministic"]

NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class ChatMessage(TypedDict):
    """One message of a phrasing prompt, as a plain dict: the worlds do not import the framework."""

    role: Literal["system", "user"]
    content: str


class DesignError(ValueError):
    """An experiment the environment refuses; its text goes back to the scientist verbatim."""


@dataclass(frozen=True)
class EvalPoint:
    """One held-out question: the query, its ground truth and the text the scientist sees."""

    query: Any
    truth: Any
    question: str


def numbers(text: str) -> list[float]:
    """All numbers written in ``text``, in order."""
    return [float(m) for m in NUMBER_RE.findall(text)]


def take(params: Params, index: int | np.ndarray) -> Params:
    """Select draws from a batch (keeps the batch axis when ``index`` is an array)."""
    return {k: v[index] for k, v in params.items()}


def batch_size(params: Params) -> int:
    return len(next(iter(params.values())))


class Environment(ABC):
    """A simulated world with a prior over its parameters and an experiment interface."""

    key: ClassVar[str]
    title: ClassVar[str]
    outcome: ClassVar[Outcome]
    prior_only: ClassVar[bool] = False
    goals: ClassVar[dict[str, type[Goal]]] = {}
    # True where outcomes are drawn once at reset, so repeating a design returns the same value.
    fixed_table: ClassVar[bool] = False
    # outer draws of the reference's nested estimator (it uses 100 for morals and emotion)
    paper_eig_outer: ClassVar[int] = 1000
    # draws for the EIG before any data, where fewer than EIGSettings.n_posterior suffice (None: the same)
    eig_prior_draws: ClassVar[int | None] = None
    # the prior of each parameter in ``sample_prior``, as densities for the posterior sampler's moves
    priors: ClassVar[dict[str, Prior]] = {}

    def __init__(
        self, rng: np.random.Generator, mode: Mode = "fixed", *, phrase: bool = True, include_prior: bool = True
    ) -> None:
        self.rng = rng
        self.mode = mode
        self.phrase = phrase  # only worlds whose outcomes a language model phrases use it
        # False: every text the scientist reads (questions, errors, formats) uses the abstract wording
        self.include_prior = include_prior
        self.theta: Params = self.sample_prior(rng, 1)
        self.setup(rng)

    def setup(self, rng: np.random.Generator) -> None:
        """Draw anything fixed for the lifetime of the world (tables, patient lists)."""
        return None  # most worlds have nothing fixed besides their parameters

    # -- the model -----------------------------------------------------------------------------
    @abstractmethod
    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        """``n`` independent draws of every parameter."""

    @abstractmethod
    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        """One outcome per parameter draw, shape (n, ...)."""

    @abstractmethod
    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        """log p(ys[i] | theta[j], design) as an array of shape (len(ys), n_theta)."""

    def log_lik(self, theta: Params, design: Any, y: Any) -> np.ndarray:
        """log p(y | theta[j], design) for every draw j, shape (n_theta,)."""
        return self.log_lik_matrix(theta, design, np.asarray(y)[None, ...])[0]

    def gaussian_outcome(self, theta: Params, design: Any) -> tuple[np.ndarray, float, bool] | None:
        """(mean per draw, noise sd, folded) where y = mean + N(0, sd^2) (folded: its absolute value) is a
        scalar; then EIG is the entropy of a 1-D Gaussian mixture, computed on a grid. Else None."""
        return None

    def component_pmf(self, theta: Params, design: Any) -> np.ndarray | None:
        """p(y_k = s | theta_n) as (n, K, S) where the outcome is K independent discrete components whose
        parameters are a priori independent (then EIG is a sum of exact per-component terms); else None."""
        return None

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        """The likelihood the reference's EIG code uses; the same as the true one unless overridden."""
        return self.log_lik_matrix(theta, design, ys)

    def step(self, design: Any) -> Any:
        """Run one experiment in the true world."""
        return self.simulate(self.theta, design, self.rng)[0]

    # -- the interface the scientist sees ------------------------------------------------------
    @abstractmethod
    def validate(self, text: str) -> Any:
        """Parse the scientist's ``<observe>`` text into a design or raise DesignError."""

    @abstractmethod
    def random_design(self, rng: np.random.Generator) -> Any:
        """The design sampler used by the random baseline and the EIG regret."""

    @abstractmethod
    def format_design(self, design: Any) -> str:
        """A design written the way the scientist should write it."""

    @abstractmethod
    def format_observation(self, y: Any) -> str:
        """An outcome as the scientist reads it."""

    @abstractmethod
    def description(self, include_prior: bool) -> str:
        """What the world is (with the real-world framing or without it)."""

    @abstractmethod
    def design_instructions(self, include_prior: bool) -> str:
        """How to write an experiment inside ``<observe>`` tags."""

    def needs_phrasing(self) -> bool:
        """True where a language model turns the outcome into the sentence the scientist sees."""
        return False

    def phrasing_messages(self, design: Any, y: Any) -> list[ChatMessage]:
        raise NotImplementedError

    def observation_text(self, y: Any, phrased: str | None) -> str:
        return self.format_observation(y)


class Goal(ABC):
    """What the scientist must predict, and how a prediction is scored."""

    name: ClassVar[str]
    # error kind of one item: squared error, absolute error, or 0/1 error of a class label
    kind: ClassVar[Literal["squared", "absolute", "class"]]
    paper_norm: ClassVar[tuple[float, float]]
    prior_only: ClassVar[bool] = False
    parameter_goal: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def __init__(self, env: Environment) -> None:
        self.env = env

    @property
    def mode(self) -> Mode:
        return self.env.mode

    @property
    def include_prior(self) -> bool:
        return self.env.include_prior

    @abstractmethod
    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        """The held-out questions; built once per trajectory and reused at every checkpoint."""

    @abstractmethod
    def goal_text(self, include_prior: bool) -> str:
        """The task statement in the scientist's system prompt."""

    @abstractmethod
    def answer_format(self) -> str:
        """What a valid answer looks like (shown to the scientist and the novice); follows env.include_prior."""

    @abstractmethod
    def parse(self, text: str) -> Any | None:
        """The prediction in an ``<answer>``, or None when it cannot be read."""

    @abstractmethod
    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        """What the prior-predictive-mean (or majority-class) predictor answers."""

    @abstractmethod
    def item_error(self, prediction: Any, truth: Any) -> float:
        """Error of one prediction; for classes 0 when right and 1 when wrong."""

    def format_prediction(self, prediction: Any) -> str:
        return str(prediction)

    def paper_raw(self, item_errors: list[float]) -> float:
        """The raw number the reference reports: accuracy for class goals, mean error otherwise."""
        mean = float(np.mean(item_errors))
        return 1.0 - mean if self.kind == "class" and self.paper_reports_accuracy else mean

    paper_reports_accuracy: ClassVar[bool] = True

    def naive_goal_text(self, include_prior: bool) -> str:
        """The user's goal as the discovery-mode scientist and the novice read it."""
        return self.goal_text(include_prior)


class BernoulliEnvironment(Environment):
    """A world whose outcome is 1 with probability ``prob_one(theta, design)``, else 0."""

    @abstractmethod
    def prob_one(self, theta: Params, design: Any) -> np.ndarray:
        """P(outcome = 1) for each parameter draw, shape (n,)."""

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        p = self.prob_one(theta, design)
        return (rng.random(len(p)) < p).astype(int)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return bernoulli_log_lik(self.prob_one(theta, design), ys)


class BinaryGoal(Goal):
    """A goal whose answer is a 0/1 label, scored 0 when right and 1 when wrong."""

    def answer_format(self) -> str:
        return "0 or 1"

    def parse(self, text: str) -> Any | None:
        return parse_binary(text, self.mode)

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float(int(prediction) != int(truth))


# -- helpers shared by the environments ----------------------------------------------------------
def bernoulli_log_lik(p: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(len(ys), n) matrix of Bernoulli log-probabilities for probabilities p of shape (n,)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    ys = np.asarray(ys, dtype=float).reshape(-1, 1)
    return ys * np.log(p)[None, :] + (1 - ys) * np.log1p(-p)[None, :]


def normal_logpdf(x: np.ndarray, mean: np.ndarray, sd: float) -> np.ndarray:
    """Gaussian log-density without scipy's per-call overhead (it dominates the nested EIG)."""
    z = (x - mean) / sd
    return -0.5 * z * z - np.log(sd) - 0.5 * np.log(2 * np.pi)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


def parse_binary(text: str, mode: Mode, labels: tuple[str, str] = ("0", "1")) -> int | None:
    """Read a 0/1 (or 1/2) label.

    Paper mode copies the reference: the first label is checked as a substring first, so
    "10" reads as the second label. Fixed mode accepts only an answer that names exactly one label.
    """
    a, b = labels
    stripped = text.strip()
    if mode == "paper":
        if b in stripped:
            return 1
        if a in stripped:
            return 0
        return None
    tokens = re.findall(r"\d+", stripped)
    found = {t for t in tokens if t in labels}
    if len(found) != 1:
        return None
    return 1 if found.pop() == b else 0


def parse_float(text: str) -> float | None:
    values = numbers(text)
    if not values:
        return None
    value = values[-1]
    return value if np.isfinite(value) else None


def balanced_labels(n: int) -> list[int]:
    """Alternating class labels 0, 1, 0, ... used to rejection-sample a balanced eval set."""
    return [i % 2 for i in range(n)]
