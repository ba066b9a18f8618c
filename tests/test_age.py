import pytest

from bot.age import band_for, parse_age_months, stage_for


@pytest.mark.parametrize("text, months", [
    ("18 months", 18), ("my 18-month-old", 18), ("she's 3", 36), ("a 3yo", 36),
    ("6 weeks old", 6 * 12 / 52), ("newborn", 0.5), ("two and a half years", 30),
    ("he just turned 7", 84), ("4 and a half", 54), ("14", 168), ("teenager", 180),
    ("9 mo", 9), ("almost 2", 24), ("3 days old", 0.1), ("she is 4", 48),
    ("son's 7", 84), ("he's 4 months", 4),
])
def test_parses_ages(text, months):
    assert parse_age_months(text) == pytest.approx(months, abs=0.15)


@pytest.mark.parametrize("text", ["", None, "no idea", "she has 2 brothers and loves cats",
                                  "200 years"])
def test_no_age(text):
    assert parse_age_months(text) is None


@pytest.mark.parametrize("months, band, stage", [
    (1, "0-6 months", "baby"), (8, "6-12 months", "baby"), (18, "1-2 years", "toddler"),
    (30, "2-4 years", "toddler"), (40, "2-4 years", "preschool"), (108, "4+ years", "school"),
    (170, "4+ years", "teen"),
])
def test_bands_and_stages(months, band, stage):
    assert band_for(months) == band
    assert stage_for(months) == stage


def test_unknown_age_has_no_band():
    assert band_for(None) is None
    assert stage_for(None) == "unknown"
