"""Registering the plugin must not import scipy's heavy subpackages: every command that loads the
plugin (analyze, report, a run of another task) paid about 1.7 s of CPU for scipy.stats before."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import emergebench_boxinggym as plugin
tasks, models = [], []
plugin.register_tasks(tasks.append)
plugin.register_models(models.append)
# a lazily loaded package is a stub in sys.modules until first use; loading it imports its submodules
heavy = sorted(m for m in sys.modules if m.startswith(("scipy.stats.", "scipy.special.", "scipy.signal.")))
print(json.dumps({"tasks": len(tasks), "models": len(models), "heavy": heavy}))
"""


def test_registering_the_plugin_imports_no_scipy_subpackage() -> None:
    out = subprocess.run([sys.executable, "-W", "always", "-c", _PROBE], capture_output=True, text=True, check=True)
    assert out.stderr == ""
    seen = json.loads(out.stdout)
    assert seen["tasks"] >= 10 and seen["models"] == 1
    assert seen["heavy"] == []


def test_scipy_still_loads_where_a_world_needs_it() -> None:
    probe = """
import sys
import numpy as np
from emergebench_boxinggym.envs.priors import Normal
print(float(Normal(0.0, 1.0).ppf(np.array([0.975]))[0]), "scipy.stats._distn_infrastructure" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-W", "always", "-c", probe], capture_output=True, text=True, check=True)
    assert out.stderr == ""  # no warning reaches the user when a world first needs scipy
    value, loaded = out.stdout.split()
    assert abs(float(value) - 1.959963984540054) < 1e-12  # the standard normal's 97.5% quantile
    assert loaded == "True"
