"""Every danger pattern matches its examples, and no idiom or ordinary message trips it."""

from __future__ import annotations

import pytest

from bot.crisis_matcher import GROUPS, CrisisMatcher, load_pattern_file

DATA = load_pattern_file()
ENTRIES = [(g, e) for g in GROUPS for e in DATA[g]]
EXAMPLES = [(g, e["id"], x) for g, e in ENTRIES for x in e.get("examples", [])]
NOTS = [(g, e["id"], x) for g, e in ENTRIES for x in e.get("not", [])]
IDIOMS = [
    "this tantrum is killing me", "i'm dead tired", "i could murder a coffee",
    "she hurt her knee on the slide", "he's killing me with these 5am wake ups",
    "i'm dying for a night off", "bedtime is the death of me", "he shook his head at me",
    "my toddler hits me when he's angry", "i'd kill for a full night's sleep",
    "she screamed like someone was murdering her", "i could strangle whoever invented glitter",
    "he smacked his head on the table, small bump, he's fine",
    "dying to know how to stop the biting", "i feel like i'm drowning in laundry",
    "my son threw his cup at me at dinner", "i yelled at my daughter this morning",
    "i'm worried i hurt her feelings when i shouted",
    "should i let her self settle or pick her up", "i need help with my self assessment",
    "i'm scared of hurting my kids the same way my mum hurt me",
    "he says he'll kill me when i turn off minecraft, he's 6",
    "i grew up with domestic violence and don't know what normal looks like",
    "i was sexually abused as a child and it makes nappy changes hard",
    "she bangs her head when she's cross and i just want it to stop",
    "i bit her head off for spilling juice", "will two homes hurt my son's attachment",
    "i'm going to go now",
]


@pytest.fixture(scope="module")
def matcher(nlp):
    return CrisisMatcher(nlp)


def test_every_pattern_has_examples():
    for group, entry in ENTRIES:
        assert entry.get("examples"), f"{group}:{entry['id']} has no examples"


@pytest.mark.parametrize("group, pattern_id, text", EXAMPLES)
def test_pattern_matches_its_examples(matcher, nlp, group, pattern_id, text):
    doc = nlp(text.lower())
    assert pattern_id in [m.pattern_id for m in matcher.find_all(doc)]
    assert matcher.best(doc).group == group


@pytest.mark.parametrize("group, pattern_id, text", NOTS)
def test_pattern_ignores_listed_look_alikes(matcher, nlp, group, pattern_id, text):
    assert matcher.best(nlp(text.lower())) is None


@pytest.mark.parametrize("text", IDIOMS)
def test_idioms_do_not_trigger_a_crisis(matcher, nlp, text):
    best = matcher.best(nlp(text.lower()))
    assert best is None or not best.is_crisis, best


@pytest.mark.parametrize("text", [x for e in DATA.get("idioms", []) for x in e["examples"]])
def test_idiom_examples_are_recognised_and_never_a_crisis(matcher, nlp, text):
    doc = nlp(text.lower())
    assert matcher.idiom(doc) is not None
    assert matcher.best(doc) is None or not matcher.best(doc).is_crisis


@pytest.mark.parametrize("text", [x for e in DATA.get("idioms", []) for x in e.get("not", [])])
def test_an_idiom_followed_by_its_exception_is_no_idiom(matcher, nlp, text):
    assert matcher.idiom(nlp(text.lower())) is None


def test_danger_beats_an_idiom(matcher, nlp):
    doc = nlp("this is killing me and honestly i want to end my life")
    assert matcher.idiom(doc) is not None
    assert matcher.best(doc).group == "crisis_self_harm"


@pytest.mark.parametrize("order, text, found", [
    ("forward", "the pills are in the drawer", True),
    ("forward", "the drawer has the pills", False),
    ("any", "the drawer has the pills", True),
    ("any", "the drawer is far from here and so far from anything else the pills", False),
])
def test_a_near_rule_takes_its_second_group_after_the_first_unless_order_is_any(
        nlp, tmp_path, order, text, found):
    path = tmp_path / "patterns.yml"
    path.write_text(
        "crisis_self_harm:\n  - id: pills_drawer\n    near:\n      window: 4\n"
        f"      order: {order}\n      groups:\n        - [pills]\n        - [drawer]\n")
    doc = nlp(text)
    assert (CrisisMatcher(nlp, path).best(doc) is not None) is found


def test_issue_examples_are_caught(matcher, nlp):
    for text, group in [
        ("sometimes I think my kids would be better off without me", "crisis_self_harm"),
        ("I had thoughts of shaking him to make the crying stop", "crisis_harm_child"),
        ("my daughter said she wants to die", "crisis_danger"),
        ("I wrote letters to my kids", "crisis_self_harm"),
        ("I just want to disappear", "crisis_self_harm"),
        ("my baby is not breathing", "crisis_danger"),
    ]:
        best = matcher.best(nlp(text.lower()))
        assert best is not None and best.group == group, (text, best)


def _message(text: str, ranking: list[dict], second: float | None,
             crisis_type: str | None = None):
    from rasa.shared.nlu.training_data.message import Message

    data = {"text": text, "intent": ranking[0], "intent_ranking": ranking}
    if second is not None:
        data["crisis_probability"] = second
    if crisis_type is not None:
        data["crisis_type"] = crisis_type
    return Message(data=data)


def _net_decides(message) -> tuple[str, str | None]:
    from bot.safety_net import CrisisSafetyNet

    CrisisSafetyNet(CrisisSafetyNet.get_default_config()).process([message])
    return message.get("intent")["name"], message.get("safety_net")["layer"]


DIET_CRISIS = [{"name": "crisis_danger", "confidence": 0.6},
               {"name": "concern_tantrums", "confidence": 0.38},
               {"name": "out_of_scope", "confidence": 0.02}]


@pytest.mark.parametrize("second, expected, layer", [
    (0.9, "crisis_danger", "classifier"),           # both agree: a crisis
    (None, "crisis_danger", "classifier"),          # no second opinion: DIET decides
    (0.35, "possible_crisis", "possible_score"),    # 0.3*0.6 + 0.7*0.35 = 0.425: ask
    (0.05, "concern_tantrums", "set_aside"),        # clearly ordinary: DIET's next intent
])
def test_the_second_opinion_votes_on_a_crisis_diet_found_alone(second, expected, layer):
    message = _message("my son wont share his toys", [dict(r) for r in DIET_CRISIS], second)
    assert _net_decides(message) == (expected, layer)
    if second is not None:
        assert message.get("safety_net")["score"] == pytest.approx(0.18 + 0.7 * second, 1e-3)


def test_a_set_aside_crisis_falls_back_when_nothing_else_is_likely():
    ranking = [{"name": "crisis_danger", "confidence": 0.7},
               {"name": "concern_tantrums", "confidence": 0.2}]
    assert _net_decides(_message("hmm", ranking, 0.01)) == ("nlu_fallback", "set_aside")


def test_second_opinion_never_removes_a_pattern_crisis():
    ranking = [{"name": "concern_tantrums", "confidence": 0.9}]
    assert _net_decides(_message("i want to kill myself", ranking, 0.0)) == (
        "crisis_self_harm", "pattern")


@pytest.mark.parametrize("second, crisis_type, in_ranking, expected, layer", [
    # DIET put no crisis on top, the second opinion is sure: a crisis of the type it names
    (0.95, "crisis_danger", False, "crisis_danger", "vote"),
    # ... but DIET's own crisis ranking, where there is one, names the type
    (0.95, "crisis_danger", True, "crisis_harm_child", "vote"),
    # fairly sure: the safety question, not silence
    (0.6, "crisis_danger", False, "possible_crisis", "possible_score"),
    # not sure: DIET's ordinary answer stands
    (0.4, "crisis_danger", False, "concern_tantrums", None),
])
def test_a_sure_second_opinion_raises_a_crisis_diet_ranked_lower(
        second, crisis_type, in_ranking, expected, layer):
    ranking = [{"name": "concern_tantrums", "confidence": 0.8},
               {"name": "out_of_scope", "confidence": 0.15}]
    if in_ranking:
        ranking.append({"name": "crisis_harm_child", "confidence": 0.05})
    message = _message("took my belt off to him tonight", ranking, second, crisis_type)
    assert _net_decides(message) == (expected, layer)


def test_a_crisis_diet_ranked_second_is_promoted_when_the_vote_carries_it():
    ranking = [{"name": "nlu_fallback", "confidence": 0.35},
               {"name": "crisis_harm_child", "confidence": 0.34},
               {"name": "concern_tantrums", "confidence": 0.3}]
    message = _message("im so angry im scared for them", ranking, 0.8)
    assert _net_decides(message) == ("crisis_harm_child", "vote")


@pytest.mark.parametrize("top, second, expected", [
    ("concern_tantrums", 0.95, "possible_crisis"),  # the vote reads danger: ask, never assume
    ("concern_tantrums", 0.1, "concern_tantrums"),   # nothing else: the idiom is an idiom
    ("crisis_self_harm", 0.1, "possible_crisis"),    # DIET read the idiom as danger: ask
])
def test_an_idiom_is_never_a_crisis_without_a_danger_pattern(top, second, expected):
    ranking = [{"name": top, "confidence": 0.9},
               {"name": "out_of_scope", "confidence": 0.1}]
    intent, _ = _net_decides(_message("this tantrum is killing me", ranking, second))
    assert intent == expected


def test_a_near_unanimous_vote_outweighs_an_idiom():
    """An idiom makes a doubtful crisis a question, but not one both classifiers are sure of."""
    text = "at the end of my rope, if he cries once more i'll lose it with him"
    sure = [{"name": "crisis_harm_child", "confidence": 0.99},
            {"name": "concern_tantrums", "confidence": 0.01}]
    assert _net_decides(_message(text, sure, 0.98)) == ("crisis_harm_child", "classifier")
    # a little less sure (0.3 * 0.99 + 0.7 * 0.9 = 0.93): the question
    assert _net_decides(_message(text, [dict(r) for r in sure], 0.9)) == (
        "possible_crisis", "idiom_question")


def test_the_vote_does_not_overrule_diet_on_a_few_words():
    """'i dont know' shares words with many crisis messages; DIET's 'deny' stands."""
    ranking = [{"name": "deny", "confidence": 0.86},
               {"name": "crisis_harm_child", "confidence": 0.1}]
    assert _net_decides(_message("i dont know", ranking, 0.9))[0] == "deny"
    longer = "i dont know what i did to him, there are marks"
    assert _net_decides(_message(longer, [dict(r) for r in ranking], 0.9))[0] == \
        "crisis_harm_child"
