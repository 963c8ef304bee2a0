"""Numbers written the way the chapters' sentences show them, for `myst_nb.glue`."""

from __future__ import annotations

from collections.abc import Iterable

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
MINUS = "\u2212"


def power_of_ten(x: float, digits: int = 1) -> str:
    """Return x as 1.8 × 10³⁰⁸ (digits after the point); with digits=0, 1e-6 reads 10⁻⁶."""
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    power = "10" + str(int(exponent)).translate(SUPERSCRIPTS)
    if mantissa.lstrip("-") == "1":
        return mantissa.replace("1", "").replace("-", MINUS) + power
    return f"{mantissa.replace('-', MINUS)} × {power}"


def numbers(values: Iterable[float], fmt: str = "g") -> str:
    """Return a tuple of numbers as text, e.g. (1000, 999, 998), with typographic minus signs."""
    text = ", ".join(format(v, fmt) for v in values)
    return f"({text})".replace("-", MINUS)
