"""What the conversation knows about the child: name, age in months, band and stage."""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

from bot.age import band_for, parse_age_months, stage_for

_KIN = {"my", "our", "son", "daughter", "boy", "girl", "kid", "child", "baby", "toddler",
        "dd", "ds", "lo", "stepson", "stepdaughter", "grandson", "granddaughter"}


def name_from_entity(value: str | None) -> str | None:
    """'my son Leo' -> 'Leo' (the entity ruler labels the kinship phrase with the name)."""
    if not value:
        return None
    words = [w.strip(",.!?") for w in str(value).split()]
    names = [w for w in words if w and w.lower() not in _KIN and w.isalpha()]
    return names[-1].capitalize() if names else None


@dataclass(frozen=True)
class Child:
    name: str | None
    months: float | None

    @property
    def band(self) -> str | None:
        return band_for(self.months)

    @property
    def stage(self) -> str:
        return stage_for(self.months)


def child_from(tracker: Tracker) -> Child:
    months = tracker.get_slot("age_months")
    if months is None:
        months = parse_age_months(tracker.get_slot("child_age"))
    return Child(name=name_from_entity(tracker.get_slot("child_name")),
                 months=float(months) if months is not None else None)


def age_slots(value: str | None) -> dict[str, object]:
    """Slot values for an age the parent wrote; empty dict if it holds no age."""
    months = parse_age_months(value)
    if months is None:
        return {}
    return {"child_age": value, "age_months": months, "age_band": band_for(months)}
