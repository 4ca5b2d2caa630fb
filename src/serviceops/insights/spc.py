"""Statistical process control: control charts, run rules, Pareto and before/after tests. Pure.

Imports no Django: callers pass plain numbers and get frozen dataclasses back.

- `xmr`, `p_chart`, `u_chart` build a `ControlChart` (limits from a baseline, signals from the
  run rules); `run_rules` applies the four rules to any series.
- `pareto` ranks categories and marks the vital few.
- `before_after_times` (Mann-Whitney U) and `before_after_rates` (two-proportion z-test) say
  in plain words whether a change made things better, worse or not detectably different.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

D2 = 1.128  # E[range] / sigma for subgroups of 2: turns the average moving range into sigma
D4 = 3.267  # upper limit factor of the moving-range chart (n = 2)
VITAL_SHARE = 0.8  # the "80" of 80/20
FEW_CASES = 20  # below this many durations per side, a verdict carries a caution
_EPS = 1e-12  # float slack when comparing accumulated shares with 0.8

RULE_TEXT = {
    "beyond_3_sigma": "Point outside the control limits",
    "run_of_8": "8 points in a row on one side of the centre",
    "2_of_3_beyond_2_sigma": "2 of 3 points beyond 2 sigma on one side",
}


@dataclass(frozen=True)
class Signal:
    index: int
    rule: str
    description: str


@dataclass(frozen=True)
class ControlChart:
    kind: str
    values: list[float | None]
    centre: float
    ucl: list[float | None]
    lcl: list[float | None]
    sigma: list[float | None]
    mr_ucl: float | None
    signals: list[Signal]

    def to_rows(self, labels: Sequence[str]) -> list[dict]:
        """Return one dict per point (label, value, centre, ucl, lcl, signal) for charts/CSV;
        `signal` is the comma-joined rule codes of that point, or ""."""
        if len(labels) != len(self.values):
            raise ValueError(f"{len(labels)} labels for {len(self.values)} points")
        codes: dict[int, list[str]] = {}
        for signal in self.signals:
            codes.setdefault(signal.index, []).append(signal.rule)
        return [
            {"label": label, "value": value, "centre": self.centre, "ucl": ucl, "lcl": lcl,
             "signal": ",".join(codes.get(i, []))}
            for i, (label, value, ucl, lcl)
            in enumerate(zip(labels, self.values, self.ucl, self.lcl, strict=True))
        ]


@dataclass(frozen=True)
class ParetoRow:
    label: str
    count: float
    share: float
    cumulative_share: float
    vital_few: bool


@dataclass(frozen=True)
class Comparison:
    test: str
    before: float
    after: float
    n_before: int
    n_after: int
    statistic: float
    p_value: float
    significant: bool
    direction: str
    verdict: str


# --- control charts ---------------------------------------------------------------------------


def xmr(values: Sequence[float], *, baseline: slice | None = None) -> ControlChart:
    """Return the XmR (individuals) chart: centre = baseline mean, sigma = MR-bar / 1.128,
    limits centre ± 3 sigma, and the moving-range chart's upper limit 3.267 · MR-bar."""
    for i, value in enumerate(values):
        if value is None or not math.isfinite(value):
            raise ValueError(f"value {i} is {value!r}: an XmR chart needs a number at every point")
    base = list(values)[baseline or slice(None)]
    if len(base) < 2:
        raise ValueError(f"an XmR chart needs at least 2 baseline points, got {len(base)}")
    centre = float(np.mean(base))
    mr_bar = float(np.mean(np.abs(np.diff(base))))
    sigma = mr_bar / D2
    n = len(values)
    return ControlChart(
        kind="xmr", values=[float(v) for v in values], centre=centre,
        ucl=[centre + 3 * sigma] * n, lcl=[centre - 3 * sigma] * n, sigma=[sigma] * n,
        mr_ucl=D4 * mr_bar, signals=run_rules(values, centre, [sigma] * n),
    )


def p_chart(
    successes: Sequence[int], totals: Sequence[int], *, baseline: slice | None = None
) -> ControlChart:
    """Return the p chart of successes / totals: limits p-bar ± 3 sqrt(p-bar(1 - p-bar)/n_i),
    clipped to [0, 1]; points with a total of 0 have no value and no limits."""
    _same_length(successes, totals)
    for i, (s, n) in enumerate(zip(successes, totals, strict=True)):
        if s < 0 or n < 0:
            raise ValueError(f"point {i}: counts cannot be negative ({s} of {n})")
        if s > n:
            raise ValueError(f"point {i}: {s} successes out of only {n}")
    window = baseline or slice(None)
    base_total = sum(totals[window])
    if base_total == 0:
        raise ValueError("the baseline has no cases (all totals are 0)")
    p_bar = sum(successes[window]) / base_total
    sigma = [math.sqrt(p_bar * (1 - p_bar) / n) if n else None for n in totals]
    values = [s / n if n else None for s, n in zip(successes, totals, strict=True)]
    return _chart("p", values, p_bar, sigma, upper=1.0)


def u_chart(
    counts: Sequence[int], exposures: Sequence[float], *, baseline: slice | None = None,
    per: float = 1.0,
) -> ControlChart:
    """Return the u chart of counts per unit exposure, expressed per `per` units (per=1000:
    "per 1,000 cases"): limits u-bar ± 3 sqrt(u-bar / exposure_i), the lower one clipped at 0;
    points with no exposure have no value and no limits."""
    _same_length(counts, exposures)
    if not per > 0:
        raise ValueError(f"per must be positive, got {per}")
    for i, (c, e) in enumerate(zip(counts, exposures, strict=True)):
        if c < 0 or e < 0:
            raise ValueError(f"point {i}: counts and exposures cannot be negative ({c} / {e})")
    window = baseline or slice(None)
    base_exposure = sum(exposures[window])
    if base_exposure == 0:
        raise ValueError("the baseline has no exposure (all exposures are 0)")
    u_bar = sum(counts[window]) / base_exposure
    sigma = [math.sqrt(u_bar / e) * per if e else None for e in exposures]
    values = [c / e * per if e else None for c, e in zip(counts, exposures, strict=True)]
    return _chart("u", values, u_bar * per, sigma, upper=math.inf)


def _chart(
    kind: str, values: list[float | None], centre: float, sigma: list[float | None], *,
    upper: float,
) -> ControlChart:
    """Return a chart with limits centre ± 3 sigma_i clipped to [0, upper] (None: no sigma)."""
    # A proportion or a rate cannot fall below 0 (nor a proportion exceed 1), so limits
    # beyond those bounds could never be crossed: clip them where they stop meaning anything.
    ucl = [None if s is None else min(centre + 3 * s, upper) for s in sigma]
    lcl = [None if s is None else max(centre - 3 * s, 0.0) for s in sigma]
    return ControlChart(kind=kind, values=values, centre=centre, ucl=ucl, lcl=lcl, sigma=sigma,
                        mr_ucl=None, signals=run_rules(values, centre, sigma))


def _same_length(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"the two series differ in length ({len(a)} and {len(b)})")


# --- run rules --------------------------------------------------------------------------------


def run_rules(
    values: Sequence[float | None], centre: float, sigma: Sequence[float | None]
) -> list[Signal]:
    """Return the signals of the four run rules, ordered by index then rule code. Points whose
    value is None are skipped: the series closes up over them."""
    _same_length(values, sigma)
    signals: list[Signal] = []
    run_side = run_length = 0  # side of the current run (+1 above, -1 below) and its length
    trend_step = trend_moves = 0  # direction of the current trend and its number of moves
    recent: list[int] = []  # for the last 3 points: side if beyond 2 sigma, else 0
    previous: float | None = None
    for i, (value, s) in enumerate(zip(values, sigma, strict=True)):
        if value is None:
            continue
        z = _z_score(i, value, centre, s)
        side = (value > centre) - (value < centre)

        def flag(rule: str, text: str | None = None, index: int = i) -> None:
            signals.append(Signal(index, rule, text or RULE_TEXT[rule]))

        if abs(z) > 3:
            flag("beyond_3_sigma")
        # A point on the centre line belongs to neither side, so it ends the run.
        run_length = run_length + 1 if side and side == run_side else int(side != 0)
        run_side = side
        if run_length >= 8:
            flag("run_of_8")
        step = 0 if previous is None else (value > previous) - (value < previous)
        trend_moves = trend_moves + 1 if step and step == trend_step else int(step != 0)
        trend_step = step
        if trend_moves >= 5:
            flag("trend_of_6", f"6 points in a row {'rising' if step > 0 else 'falling'}")
        previous = value
        beyond_2 = side if abs(z) > 2 else 0
        recent = [*recent[-2:], beyond_2]
        if beyond_2 and recent.count(beyond_2) >= 2:
            flag("2_of_3_beyond_2_sigma")
    return sorted(signals, key=lambda signal: (signal.index, signal.rule))


def _z_score(index: int, value: float, centre: float, sigma: float | None) -> float:
    """Return how many sigmas `value` lies from the centre (±inf off-centre when sigma is 0)."""
    if sigma is None or sigma < 0 or math.isnan(sigma):
        raise ValueError(f"point {index} has a value but no valid sigma ({sigma!r})")
    if sigma == 0:
        return 0.0 if value == centre else math.copysign(math.inf, value - centre)
    return (value - centre) / sigma


# --- Pareto -----------------------------------------------------------------------------------


def pareto(
    counts: Mapping[str, int | float], *, other_threshold: float | None = None
) -> list[ParetoRow]:
    """Return Pareto rows, largest count first (ties by label), with shares and cumulative
    shares (0-1); rows up to and including the one where the cumulative share first reaches
    0.8 are the vital few. With `other_threshold`, two or more categories whose share is below
    it are merged into a final "Other" row (a single one keeps its own name)."""
    for label, count in counts.items():
        if not count >= 0:  # also refuses NaN
            raise ValueError(f"count of {label!r} must be a non-negative number, got {count}")
    if other_threshold is not None and not 0 <= other_threshold <= 1:
        raise ValueError(f"other_threshold is a share between 0 and 1, got {other_threshold}")
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if other_threshold is not None and total > 0:
        # A category already called "Other" joins the group rather than sit beside it.
        small = [item for item in ranked
                 if item[1] / total < other_threshold or item[0] == "Other"]
        if len(small) >= 2:
            ranked = [item for item in ranked if item not in small]
            ranked.append(("Other", sum(count for _, count in small)))
    rows: list[ParetoRow] = []
    cumulative = 0.0
    for label, count in ranked:
        reached_before = total > 0 and cumulative / total >= VITAL_SHARE - _EPS
        cumulative += count
        share = count / total if total else 0.0
        rows.append(ParetoRow(label, count, share, cumulative / total if total else 0.0,
                              vital_few=total > 0 and not reached_before))
    return rows


# --- before / after ---------------------------------------------------------------------------


def before_after_times(
    before: Sequence[float], after: Sequence[float], *, lower_is_better: bool = True,
    alpha: float = 0.05,
) -> Comparison:
    """Return a two-sided Mann-Whitney U comparison of durations in seconds (medians, U of
    `before`, p-value) with a plain-language verdict."""
    _check_alpha(alpha)
    for name, side in (("before", before), ("after", after)):
        if not side:
            raise ValueError(f"no durations {name} the change: each side needs at least one")
        if any(not (math.isfinite(v) and v >= 0) for v in side):
            raise ValueError(f"durations {name} the change must be finite and non-negative")
    result = mannwhitneyu(before, after, alternative="two-sided", method="auto")
    u, p = float(result.statistic), float(result.pvalue)
    p = 1.0 if math.isnan(p) else p
    m_before, m_after = float(np.median(before)), float(np.median(after))
    # Medians decide the direction; when they tie, U says which side tends to be larger.
    went_down = m_after < m_before or (m_after == m_before and u > len(before) * len(after) / 2)
    direction = _direction(p < alpha, went_down == lower_is_better)
    moved = ("fell" if m_after < m_before else "rose") if m_after != m_before else "stayed"
    text_before, text_after = format_duration(m_before), format_duration(m_after)
    change = (f"the median stayed at {text_after}" if moved == "stayed"
              else f"the median {moved} from {text_before} to {text_after}")
    verdict = _verdict(direction, change, "Mann-Whitney U", p)
    if min(len(before), len(after)) < FEW_CASES:
        verdict += f" Few cases: treat with caution ({len(before)} before, {len(after)} after)."
    return Comparison("mann_whitney", m_before, m_after, len(before), len(after), u, p,
                      p < alpha, direction, verdict)


def before_after_rates(
    successes_before: int, total_before: int, successes_after: int, total_after: int, *,
    higher_is_better: bool = True, alpha: float = 0.05,
) -> Comparison:
    """Return a two-sided two-proportion z-test (pooled proportion) of the success rate before
    and after a change; `statistic` is z for after minus before."""
    _check_alpha(alpha)
    for name, s, n in (("before", successes_before, total_before),
                       ("after", successes_after, total_after)):
        if n <= 0:
            raise ValueError(f"the total {name} the change must be positive, got {n}")
        if not 0 <= s <= n:
            raise ValueError(f"successes {name} the change must be between 0 and {n}, got {s}")
    p1, p2 = successes_before / total_before, successes_after / total_after
    pooled = (successes_before + successes_after) / (total_before + total_after)
    if pooled in (0.0, 1.0):
        z, p = 0.0, 1.0  # every case alike on both sides: no difference can be detected
    else:
        se = math.sqrt(pooled * (1 - pooled) * (1 / total_before + 1 / total_after))
        z = (p2 - p1) / se
        p = math.erfc(abs(z) / math.sqrt(2))
    direction = _direction(p < alpha, (p2 > p1) == higher_is_better)
    verdict = _verdict(direction, f"{p1:.1%} → {p2:.1%}".replace("%", " %"),
                       "two-proportion z-test", p)
    # The normal approximation wants about 5 expected successes and failures on each side.
    if min(total_before, total_after) * min(pooled, 1 - pooled) < 5:
        verdict += (f" Few cases: treat with caution ({total_before} before, {total_after} "
                    "after).")
    return Comparison("two_proportion_z", p1, p2, total_before, total_after, z, p, p < alpha,
                      direction, verdict)


def format_duration(seconds: float) -> str:
    """Return a duration in seconds as readable text: "45 s", "12.5 min", "4.2 h", "3.0 days"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def _format_p(p: float) -> str:
    """Return "p = 0.41", "p = 0.003" or "p < 0.001"."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _direction(significant: bool, better: bool) -> str:
    """Return "improved", "worse" or "no_change" (anything not significant is no change)."""
    if not significant:
        return "no_change"
    return "improved" if better else "worse"


def _verdict(direction: str, change: str, test: str, p: float) -> str:
    """Return the plain-language sentence for a comparison."""
    if direction == "no_change":
        return (f"No significant change: {change} ({test}, {_format_p(p)}); "
                "the difference could be chance.")
    word = "Improved" if direction == "improved" else "Worse"
    return f"{word}: {change} and the change is statistically significant ({test}, {_format_p(p)})."


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
