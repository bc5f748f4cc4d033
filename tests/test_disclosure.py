"""Disclosure control (svtui.disclosure), checked by hand on small counts."""
from __future__ import annotations

import pytest

from svtui import disclosure as dc


# ------------------------------------------------------------------ levels


def test_levels_and_default():
    assert dc.LEVELS == ("none", "partner", "public")
    assert dc.rule_for(None).level == "partner"
    assert dc.rule_for("PUBLIC").level == "public"
    with pytest.raises(ValueError, match="choose one of none, partner, public"):
        dc.rule_for("secret")


@pytest.mark.parametrize("level", dc.LEVELS)
def test_every_level_describes_itself(level):
    text = dc.rule_for(level).describe()
    assert text.startswith("Disclosure control: " + level)


# ------------------------------------------------------------------ counts


@pytest.mark.parametrize(
    "n, none, partner, public",
    [
        (0, "0", "0", "0"),
        (1, "1", "fewer than 5", "fewer than 5"),
        (4, "4", "fewer than 5", "fewer than 5"),
        (5, "5", "5", "5"),
        (7, "7", "7", "5"),
        (8, "8", "8", "10"),  # nearest 5: 7.5 and up goes to 10
        (12, "12", "12", "10"),
        (13, "13", "13", "15"),
        (412, "412", "412", "410"),
        (474, "474", "474", "475"),
        (1234, "1,234", "1,234", "1,235"),
    ],
)
def test_count_by_hand(n, none, partner, public):
    assert dc.count(n, "none").text == none
    assert dc.count(n, "partner").text == partner
    assert dc.count(n, "public").text == public


def test_count_values_and_flags():
    s = dc.count(3, "partner")
    assert (s.value, s.withheld) == (None, True)
    s = dc.count(12, "public")
    assert (s.value, s.withheld) == (10, True)  # rounded away from the true 12
    s = dc.count(10, "public")
    assert (s.value, s.withheld) == (10, False)
    assert dc.count(None).text == "not known"
    assert dc.count(float("nan")).text == "not known"
    with pytest.raises(ValueError):
        dc.count(-1)


@pytest.mark.parametrize(
    "n, level, text",
    [
        (0, "partner", "no offences"),
        (1, "none", "1 offence"),
        (2, "none", "2 offences"),
        (1, "partner", "fewer than 5 offences"),
        (5, "partner", "5 offences"),
        (1, "public", "fewer than 5 offences"),
        (6, "public", "5 offences"),
        (3, "public", "fewer than 5 offences"),
    ],
)
def test_count_phrase_plurals(n, level, text):
    assert dc.count_phrase(n, "offence", level).text == text


def test_plurals():
    assert dc.plural(1, "offence") == "offence"
    assert dc.plural(2, "offence") == "offences"
    assert dc.plural(0, "offence") == "offences"
    assert dc.plural(2, "locality") == "localities"
    assert dc.plural(2, "day") == "days"
    assert dc.plural(2, "person", "people") == "people"
    assert dc.count_phrase(1, "locality", "none").text == "1 locality"
    assert dc.count_phrase(3, "locality", "none").text == "3 localities"


def test_keep_locality():
    assert dc.keep_locality(1, "none") and dc.keep_locality(1, "partner")
    assert not dc.keep_locality(9, "public")
    assert dc.keep_locality(10, "public")


# ------------------------------------------------------------------ percentages


@pytest.mark.parametrize(
    "part, whole, level, text",
    [
        (13, 100, "none", "13%"),
        (1, 3, "none", "33%"),
        (1, 3, "partner", "withheld"),  # numerator 1
        (3, 100, "partner", "withheld"),  # numerator 3 would be revealed
        (97, 100, "partner", "withheld"),  # the rest (3) would be revealed
        (5, 100, "partner", "5%"),
        (95, 100, "partner", "95%"),
        (6, 8, "partner", "withheld"),  # the rest is 2
        (9, 100, "public", "withheld"),  # public needs 10
        (10, 100, "public", "10%"),
        (0, 50, "partner", "0%"),
        (50, 50, "partner", "100%"),
        (1, 2000, "none", "<1%"),
        (1999, 2000, "none", ">99%"),
        (1, 8, "none", "13%"),  # 12.5 rounds half up
    ],
)
def test_share_by_hand(part, whole, level, text):
    assert dc.share(part, whole, level).text == text


def test_share_of_nothing_is_not_known_never_nan():
    for whole in (0, None, float("nan")):
        s = dc.share(0, whole)
        assert s.text == "not known" and s.value is None
    assert "nan" not in dc.share(float("nan"), 10).text.lower()


@pytest.mark.parametrize(
    "now, before, level, text, value",
    [
        (412, 474, "partner", "13%", -13),
        (474, 412, "partner", "15%", 15),
        (100, 100, "partner", "0%", 0),
        (4, 10, "partner", "withheld", None),
        (10, 4, "partner", "withheld", None),
        (9, 20, "public", "withheld", None),
        (4, 10, "none", "60%", -60),
        (10, 0, "partner", "not known", None),
    ],
)
def test_change_by_hand(now, before, level, text, value):
    s = dc.change(now, before, level)
    assert (s.text, s.value) == (text, value)


def test_rate():
    assert dc.rate(622, 185_600).text == "3.4"
    assert dc.rate(3, 185_600, level="partner").text == "withheld"
    assert dc.rate(3, 185_600, level="none").text == "0.0"
    assert dc.rate(10, None).text == "not known"
    assert dc.rate(10, 0).text == "not known"


def test_round_half_up():
    assert dc.round_half_up(12.5) == 13
    assert dc.round_half_up(2.5) == 3
    assert dc.round_half_up(-2.5) == -3
    assert dc.round_half_up(0.125 * 100) == 13
    assert dc.round_half_up(3.35, 1) == pytest.approx(3.4)


# ------------------------------------------------------------------ breakdowns


def test_largest_remainder_by_hand():
    # 1/3 each: 33.33 -> 33, 33, 33 and one left over goes to the first
    assert dc.largest_remainder([1, 1, 1]) == [34, 33, 33]
    # 2365, 94, 65 of 2524: quotas 93.70, 3.72, 2.58 -> floors 93, 3, 2 (98); remainders .70, .72, .58
    assert dc.largest_remainder([2365, 94, 65]) == [94, 4, 2]
    assert dc.largest_remainder([0, 0]) == [0, 0]
    assert dc.largest_remainder([5]) == [100]
    assert sum(dc.largest_remainder([7, 11, 13, 17, 19, 23])) == 100


def test_naive_rounding_would_not_add_up_but_breakdown_does():
    items = [("a", 1), ("b", 1), ("c", 1)]
    naive = [round(100 / 3)] * 3
    assert sum(naive) == 99
    parts = dc.breakdown([(k, v * 10) for k, v in items], "none")
    assert sum(p.percent.value for p in parts) == 100


def test_breakdown_folds_small_parts_into_other():
    # 2 and 3 are small: folded together into "other" (5), which can be shown
    parts = dc.breakdown([("public", 60), ("home", 35), ("school", 2), ("hospital", 3)], "partner")
    labels = [p.label for p in parts]
    assert labels == ["public", "home", "other"]
    assert parts[-1].merged == ("hospital", "school")
    assert parts[-1].n == 5 and parts[-1].count.text == "5"
    assert sum(p.percent.value for p in parts) == 100
    assert [p.percent.text for p in parts] == ["60%", "35%", "5%"]


def test_breakdown_one_small_part_takes_the_next_smallest_with_it():
    # a single small part on its own in "other" could be worked out by subtraction from the total:
    # the smallest shown part joins it
    parts = dc.breakdown([("a", 50), ("b", 30), ("c", 17), ("d", 3)], "partner")
    assert [p.label for p in parts] == ["a", "b", "other"]
    assert parts[-1].merged == ("d", "c")
    assert parts[-1].n == 20
    assert sum(p.percent.value for p in parts) == 100


def test_breakdown_none_shows_everything_and_drops_zero():
    parts = dc.breakdown([("a", 3), ("b", 1), ("c", 0)], "none")
    assert [(p.label, p.count.text, p.percent.text) for p in parts] == [("a", "3", "75%"), ("b", "1", "25%")]


def test_breakdown_all_small_is_one_line():
    parts = dc.breakdown([("a", 2), ("b", 1)], "partner", other_label="all")
    assert len(parts) == 1 and parts[0].count.text == "fewer than 5" and parts[0].percent.text == "100%"


def test_breakdown_public_threshold_is_ten():
    parts = dc.breakdown([("a", 80), ("b", 12), ("c", 8)], "public")
    assert [p.label for p in parts] == ["a", "other"]  # 8 < 10 folds, taking 12 with it
    assert [p.count.text for p in parts] == ["80", "20"]
    assert sum(p.percent.value for p in parts) == 100


def test_breakdown_given_order():
    parts = dc.breakdown([("under 18", 10), ("18 to 24", 30), ("25+", 60)], "partner", order="given")
    assert [p.label for p in parts] == ["under 18", "18 to 24", "25+"]
    assert [p.percent.value for p in parts] == [10, 30, 60]


def test_reveals():
    assert dc.reveals(3, 100, "partner") and dc.reveals(97, 100, "partner") and dc.reveals(2, 2, "partner")
    assert not dc.reveals(5, 100, "partner") and not dc.reveals(0, 100, "partner") and not dc.reveals(100, 100, "partner")
    assert dc.reveals(9, 100, "public") and not dc.reveals(9, 100, "none")
