"""The ten BoxingGym worlds, keyed by the name used in task ids (``boxinggym/<key>``)."""

from __future__ import annotations

from .base import DesignError, Environment, EvalPoint, Goal
from .death_process import DeathProcess
from .dugongs import Dugongs
from .emotion import Emotion
from .hyperbolic import HyperbolicDiscounting
from .irt import ItemResponse
from .location_finding import LocationFinding
from .lotka_volterra import LotkaVolterra
from .moral_machines import MoralMachines
from .peregrines import Peregrines
from .survival import SurvivalAnalysis

ENVIRONMENTS: dict[str, type[Environment]] = {
    cls.key: cls
    for cls in (
        LocationFinding,
        HyperbolicDiscounting,
        DeathProcess,
        ItemResponse,
        SurvivalAnalysis,
        Dugongs,
        Peregrines,
        LotkaVolterra,
        MoralMachines,
        Emotion,
    )
}

__all__ = ["ENVIRONMENTS", "DesignError", "Environment", "EvalPoint", "Goal"]
