"""Consumer Rights Act 2015 remedy guidance: which remedies are open to the customer, and why.

Pure: no Django. The dates are the customer's account of the purchase; the answer is guidance
for the complaint handler, not legal advice, and each reason cites the section it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Kind(StrEnum):
    GOODS = "goods"
    DIGITAL = "digital"
    SERVICE = "service"


class Remedy(StrEnum):
    SHORT_TERM_RIGHT_TO_REJECT = "short_term_right_to_reject"
    REPAIR = "repair"
    REPLACEMENT = "replacement"
    PRICE_REDUCTION = "price_reduction"
    FINAL_RIGHT_TO_REJECT = "final_right_to_reject"
    REPEAT_PERFORMANCE = "repeat_performance"


SHORT_TERM_REJECT_DAYS = 30  # s.22(3)
PRESUMPTION_MONTHS = 6  # s.19(14)-(15), s.42(9)
LIMITATION_YEARS = 6  # Limitation Act 1980 s.5 (England and Wales; 5 years in Scotland)


@dataclass(frozen=True)
class Option:
    remedy: Remedy
    reason: str


@dataclass(frozen=True)
class Guidance:
    """The remedies open now (in the order the Act offers them) and notes that apply."""

    options: tuple[Option, ...]
    notes: tuple[str, ...]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def remedies(
    *, kind: Kind | str, purchased: date, reported: date, delivered: date | None = None,
    repairs_tried: int = 0,
) -> Guidance:
    """Return the remedies open to a consumer who reported a fault on `reported`.

    `delivered` defaults to `purchased`; `repairs_tried` counts repairs or replacements
    (for services: repeat performances) already attempted without success.
    """
    kind = Kind(kind)
    start = delivered or purchased
    if delivered is not None and delivered < purchased:
        raise ValueError("The delivery date cannot be before the purchase date.")
    if reported < start:
        raise ValueError("The fault cannot be reported before the goods were delivered "
                         "or the service begun.")
    if repairs_tried < 0:
        raise ValueError("The number of repairs tried cannot be negative.")

    notes: list[str] = []
    if reported > _add_months(start, 12 * LIMITATION_YEARS):
        notes.append(
            f"Reported more than {LIMITATION_YEARS} years after delivery: a court claim is "
            "normally time-barred (Limitation Act 1980 s.5; 5 years in Scotland). "
            "Any remedy now is a goodwill gesture."
        )
        return Guidance(options=(), notes=tuple(notes))
    within_presumption = reported <= _add_months(start, PRESUMPTION_MONTHS)
    if kind is not Kind.SERVICE:
        section = "s.19(14)-(15)" if kind is Kind.GOODS else "s.42(9)"
        notes.append(
            f"Within {PRESUMPTION_MONTHS} months of delivery, so the fault is presumed to have "
            f"been there at delivery unless the trader proves otherwise ({section})."
            if within_presumption else
            f"More than {PRESUMPTION_MONTHS} months after delivery: the customer must show "
            "the fault was there at delivery (for example through an independent report)."
        )

    if kind is Kind.GOODS:
        return Guidance(options=tuple(_goods(start, reported, repairs_tried,
                                             within_presumption)), notes=tuple(notes))
    if kind is Kind.DIGITAL:
        return Guidance(options=tuple(_digital(repairs_tried)), notes=tuple(notes))
    return Guidance(options=tuple(_service(repairs_tried)), notes=tuple(notes))


def _goods(start: date, reported: date, repairs_tried: int, within_presumption: bool):
    options: list[Option] = []
    reject_until = start + timedelta(days=SHORT_TERM_REJECT_DAYS)
    if reported <= reject_until:
        options.append(Option(
            Remedy.SHORT_TERM_RIGHT_TO_REJECT,
            f"Reported within {SHORT_TERM_REJECT_DAYS} days of delivery (until "
            f"{reject_until:%d %B %Y}): the customer may reject the goods for a full refund "
            "(s.20, s.22).",
        ))
    if repairs_tried == 0:
        options += [
            Option(Remedy.REPAIR, "The customer may ask for a repair at no cost, within a "
                   "reasonable time and without significant inconvenience (s.23)."),
            Option(Remedy.REPLACEMENT, "Or a replacement instead, unless that is impossible "
                   "or disproportionate compared with a repair (s.23(3))."),
        ]
    else:
        deduction = (
            "a full refund with no deduction for use, as it is within 6 months of delivery "
            "(s.24(10)-(11); cars excepted)" if within_presumption else
            "a refund less a deduction for the use the customer has had (s.24(8)-(10))"
        )
        options += [
            Option(Remedy.PRICE_REDUCTION, f"{repairs_tried} repair or replacement already "
                   "failed: the customer may keep the goods with an appropriate price "
                   "reduction (s.24(1)(a), s.24(5)(a))."),
            Option(Remedy.FINAL_RIGHT_TO_REJECT, f"{repairs_tried} repair or replacement "
                   f"already failed: the customer may reject the goods for {deduction} "
                   "(s.24(1)(b), s.24(5)(a))."),
        ]
    return options


def _digital(repairs_tried: int):
    if repairs_tried == 0:
        return [
            Option(Remedy.REPAIR, "Digital content: the customer may ask for a repair at no "
                   "cost within a reasonable time (s.43)."),
            Option(Remedy.REPLACEMENT, "Or a replacement, unless impossible or "
                   "disproportionate (s.43(3)). There is no right to reject digital content "
                   "not supplied on a tangible medium."),
        ]
    return [Option(Remedy.PRICE_REDUCTION, f"{repairs_tried} repair or replacement already "
                   "failed: the customer is entitled to a price reduction, up to a full "
                   "refund (s.44).")]


def _service(repairs_tried: int):
    if repairs_tried == 0:
        return [Option(Remedy.REPEAT_PERFORMANCE, "The service was not performed with "
                       "reasonable care and skill or as agreed: the customer may require the "
                       "trader to perform it again at no cost (s.55).")]
    return [Option(Remedy.PRICE_REDUCTION, f"Repeat performance tried {repairs_tried} time(s) "
                   "without putting it right: the customer is entitled to a price reduction, "
                   "up to a full refund (s.56).")]
