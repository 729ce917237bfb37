"""Number formats (d3-format) for chart axes and tooltips.

Vega's default axis format prints a tick of 1e29 as ``1.0000000000000001e+29`` and Altair's ``.4f``
prints a score of 3.49e25 with 26 digits; ``~g`` picks fixed or exponent notation, whichever is
shorter, and trims trailing zeros, so 0.2 stays ``0.2`` and 1e29 becomes ``1e+29``.
"""

AXIS_FORMAT = "~g"
TOOLTIP_FORMAT = ".4~g"
