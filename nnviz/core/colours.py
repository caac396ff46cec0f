"""Whether a run's colour can be seen on the views' white background (WCAG contrast, no numpy needed)."""

from __future__ import annotations

import re

from nnviz.core.text import quoted

BACKGROUND = "#ffffff"  # the background of the maps and curves
MIN_CONTRAST = 1.5  # WCAG contrast ratio against the background; #f0f0f0 is 1.14, the palette's lightest 2.0
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``"#rrggbb"``: 0 for black, 1 for white."""
    channels = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(colour: str, background: str = BACKGROUND) -> float:
    """WCAG 2 contrast ratio of two ``"#rrggbb"`` colours, from 1 (the same) to 21 (black on white)."""
    high, low = sorted((relative_luminance(colour), relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour_error(colour: str) -> str | None:
    """Why ``colour`` cannot be a run's colour (one line naming the field), or None if it can.

    Refused: anything but ``"#rrggbb"``, and colours too close to the white background to
    be seen (contrast ratio below ``MIN_CONTRAST``), e.g. white, #fefefe, #f0f0f0 or yellow.
    """
    if not isinstance(colour, str) or not _HEX.fullmatch(colour):
        return f"colour={quoted(colour)}: must be \"#rrggbb\" with hexadecimal digits"
    ratio = contrast_ratio(colour)
    if ratio < MIN_CONTRAST:
        return (f"colour={colour.lower()}: too light to be seen on the white background "
                f"(contrast {ratio:.2f}:1, at least {MIN_CONTRAST}:1 needed); choose a darker colour")
    return None
