"""Colours for the notebooks' figures that colour-blind readers can tell apart.

The palette of Okabe and Ito ("Color Universal Design", 2008): eight colours chosen to stay
distinct under the common forms of colour blindness, unlike matplotlib's default tab10,
whose green and red look alike to many readers.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

__all__ = ["OKABE_ITO", "use_palette"]

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}


def use_palette() -> list[str]:
    """Make the Okabe-Ito colours matplotlib's colour cycle (``"C0"``, ``"C1"``, ...).

    Returns
    -------
    list of str
        The colours in cycle order: blue, orange, green, vermillion, purple, sky blue,
        yellow, black.

    Examples
    --------
    >>> colours = use_palette()
    >>> colours[:2]
    ['#0072B2', '#E69F00']
    >>> import matplotlib as mpl
    >>> mpl.rcParams["axes.prop_cycle"].by_key()["color"][0]
    '#0072B2'
    """
    colours = list(OKABE_ITO.values())
    mpl.rcParams["axes.prop_cycle"] = cycler(color=colours)
    return colours
