"""Survey statistics: how much a rate computed from survey answers can be trusted.

`wilson(p, n)` is the 95% Wilson score interval for a proportion `p` (0–1)
observed among `n` responses, returned in percent and rounded half-up to 2
decimals like the rate itself. Decimal arithmetic throughout, so the interval is
the same on every run. The score never depends on it; reports show it beside the
rate and warn when `n` is below the policy's `min_responses`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

Z95 = Decimal("1.959963984540054")  # the 97.5th percentile of the standard normal distribution
CENT = Decimal("0.01")


def wilson(p: Decimal, n: int, z: Decimal = Z95) -> tuple[Decimal, Decimal]:
    """(low, high) in percent of the Wilson score interval; p is the observed share in [0, 1]."""
    if n <= 0:
        raise ValueError("a Wilson interval needs at least one response")
    with localcontext() as ctx:
        ctx.prec = 40
        n_ = Decimal(n)
        z2 = z * z
        denominator = 1 + z2 / n_
        centre = (p + z2 / (2 * n_)) / denominator
        half = z / denominator * (p * (1 - p) / n_ + z2 / (4 * n_ * n_)).sqrt()
        low, high = max(Decimal(0), centre - half), min(Decimal(1), centre + half)
        return (low * 100).quantize(CENT, rounding=ROUND_HALF_UP), (high * 100).quantize(CENT, rounding=ROUND_HALF_UP)
