"""Sweeps: many runs (models x tasks x argument grids x seeds) from one command, on this machine's
processes or on a Ray cluster. See docs/sweeps.md."""
