"""The numbers the toolkit accepts: exact decimals within bounds that decimal arithmetic keeps exact.

Every number read from a table or a params file is a `Decimal` with at most
`MAX_INTEGER_DIGITS` digits before the point and `MAX_PLACES` after it (after
trailing zeros are dropped): `1e308` or a budget of `1E-30` are refused, not
carried into a percentage that no 28-digit decimal context can hold. NaN and
infinity are never numbers.

Rounding and writing numbers are defined here too, once: `round2` is the scoring rules'
half-up rounding to 2 decimals (rates, scores, totals, confidence bounds), and
`plain` writes a decimal as a person reads it (`93.5`, `98.00` with `places=2`).

A binary float (an xlsx cell, a Parquet double) is read through its shortest
round-tripping text (`repr`), then to 15 significant digits, the precision
Excel itself shows and stores: `0.30000000000000004` (a formula's artefact) is
read as `0.3`, exactly what the user sees in the cell.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import Code, Refusal

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 15
MAX_PLACES = 6
FLOAT_DIGITS = 15
# One way to match each text (no nested choices over the same digits): linear time, whatever the input.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
MAX_TEXT = 64  # no accepted number is longer than this (15 + 6 digits, sign, point, exponent, spaces)


class NotANumber(Refusal, ValueError):
    """The text or value is not an acceptable number; the message says what was expected, the code which way."""


def bounds_text() -> str:
    return f"at most {MAX_INTEGER_DIGITS} digits before the decimal point and {MAX_PLACES} after it"


def check_bounds(number: Decimal) -> Decimal:
    """`number` when finite and within bounds, else `NotANumber`."""
    if not number.is_finite():
        raise NotANumber("expected a finite number (not NaN or infinity)", Code.NOT_A_NUMBER)
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise NotANumber(f"too large; expected a number with {bounds_text()}", Code.NUMBER_OUT_OF_BOUNDS)
    normal = number.normalize()
    if number and normal.as_tuple().exponent < -MAX_PLACES:  # type: ignore[operator]
        raise NotANumber(f"too many decimal places; expected a number with {bounds_text()}", Code.NUMBER_OUT_OF_BOUNDS)
    return number


def from_float(value: float) -> Decimal:
    """A binary float as the decimal a person sees (15 significant digits, like Excel).

    A subclass of float (numpy's float64, as an adapter's frame may hold) is read by
    float's own repr: numpy 2 writes `np.float64(2.5)`, which is no number.
    """
    number = Decimal(float.__repr__(float(value)))
    if not number.is_finite():
        raise NotANumber("expected a finite number (not NaN or infinity)", Code.NOT_A_NUMBER)
    if len(number.as_tuple().digits) > FLOAT_DIGITS and number:
        number = number.quantize(
            Decimal(1).scaleb(number.adjusted() - FLOAT_DIGITS + 1), rounding=ROUND_HALF_UP
        ).normalize()
    return number


def from_text(text: str) -> Decimal:
    """Plain ASCII decimal text (`12`, `-1.5`, `2e3`); anything else (full-width digits, `1,000`, `NaN`) is refused."""
    stripped = text.strip(" \t")
    if len(stripped) > MAX_TEXT:
        raise NotANumber(
            f"{len(stripped)} characters long; expected a number with {bounds_text()}", Code.NUMBER_OUT_OF_BOUNDS
        )
    if not _NUMBER.match(stripped):
        raise NotANumber("expected a number written with ASCII digits, such as 12 or 12.5", Code.NOT_A_NUMBER)
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise NotANumber("expected a number", Code.NOT_A_NUMBER) from None


def round2(number: Decimal) -> Decimal:
    """The scoring rules' rounding: half-up to 2 decimals."""
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def plain(number: Decimal | None, places: int | None = None) -> str:
    """A decimal without exponent or trailing noise (`—` for None); `places` fixes the decimals, rounding half-up."""
    if number is None:
        return "—"
    if places is not None:
        return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
