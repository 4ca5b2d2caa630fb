"""Numbers shared by the workforce API's endpoints (lookups and paging are in
`serviceops.api.lookups`)."""

from __future__ import annotations

import math


def number(value) -> float | None:
    """JSON has no NaN or infinity: an undefined figure (no calls; a queue that never
    clears) is null."""
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def numbers(values) -> list[float | None]:
    return [number(v) for v in values]
