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


def test_danger_beats_an_idiom(matcher, nlp):
    doc = nlp("this is killing me and honestly i want to end my life")
    assert matcher.idiom(doc) is not None
    assert matcher.best(doc).group == "crisis_self_harm"


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


def _parsed(nlp, text: str, top: str, confidence: float, second: float | None):
    from rasa.shared.nlu.training_data.message import Message

    ranking = [{"name": top, "confidence": confidence},
               {"name": "concern_tantrums", "confidence": 0.6 * (1 - confidence)},
               {"name": "out_of_scope", "confidence": 0.4 * (1 - confidence)}]
    data = {"text": text, "intent": ranking[0], "intent_ranking": ranking}
    if second is not None:
        data["crisis_probability"] = second
    return Message(data=data)


@pytest.mark.parametrize("second, expected, layer", [
    (0.9, "crisis_danger", "classifier"),           # both agree: a crisis
    (None, "crisis_danger", "classifier"),          # no second opinion: DIET stands
    (0.2, "possible_crisis", "second_opinion_question"),  # doubt: ask, don't assume
    (0.01, "out_of_scope", "second_opinion_set_aside"),   # clearly ordinary: DIET's next
])
def test_second_opinion_questions_a_crisis_found_by_diet_alone(nlp, second, expected, layer):
    from bot.safety_net import CrisisSafetyNet

    net = CrisisSafetyNet(CrisisSafetyNet.get_default_config())
    message = _parsed(nlp, "my son wont share his toys", "crisis_danger", 0.4, second)
    message.data["intent_ranking"][2]["confidence"] = 0.5
    net.process([message])
    assert message.get("intent")["name"] == expected
    assert message.get("safety_net")["layer"] == layer


def test_second_opinion_never_removes_a_pattern_crisis(nlp):
    from bot.safety_net import CrisisSafetyNet

    net = CrisisSafetyNet(CrisisSafetyNet.get_default_config())
    message = _parsed(nlp, "i want to kill myself", "concern_tantrums", 0.9, 0.0)
    net.process([message])
    assert message.get("intent")["name"] == "crisis_self_harm"


@pytest.mark.parametrize("second, expected", [(0.9, "crisis_harm_child"),
                                              (0.5, "possible_crisis")])
def test_a_lower_ranked_crisis_is_promoted_only_when_the_second_opinion_is_sure(
        nlp, second, expected):
    from rasa.shared.nlu.training_data.message import Message

    from bot.safety_net import CrisisSafetyNet

    ranking = [{"name": "nlu_fallback", "confidence": 0.35},
               {"name": "concern_tantrums", "confidence": 0.3},
               {"name": "crisis_harm_child", "confidence": 0.25}]
    message = Message(data={"text": "im so angry im scared for them", "intent": ranking[0],
                            "intent_ranking": ranking, "crisis_probability": second})
    CrisisSafetyNet(CrisisSafetyNet.get_default_config()).process([message])
    assert message.get("intent")["name"] == expected


@pytest.mark.parametrize("second, crisis_type, in_ranking, expected, layer", [
    # DIET saw no crisis, the yes/no classifier is sure: a crisis of the type it names
    (0.93, "crisis_danger", False, "crisis_danger", "second_opinion_alone"),
    # ... but DIET's own crisis ranking, where there is one, names the type
    (0.93, "crisis_danger", True, "crisis_harm_child", "second_opinion_alone"),
    # fairly sure: the safety question, not silence
    (0.75, "crisis_danger", False, "possible_crisis", "second_opinion_alone_question"),
    # not sure: DIET's ordinary answer stands
    (0.4, "crisis_danger", False, "concern_tantrums", None),
])
def test_a_sure_second_opinion_raises_a_crisis_diet_did_not_see(
        nlp, second, crisis_type, in_ranking, expected, layer):
    from rasa.shared.nlu.training_data.message import Message

    from bot.safety_net import CrisisSafetyNet

    ranking = [{"name": "concern_tantrums", "confidence": 0.8},
               {"name": "out_of_scope", "confidence": 0.15}]
    if in_ranking:
        ranking.append({"name": "crisis_harm_child", "confidence": 0.05})
    message = Message(data={"text": "took my belt off to him tonight", "intent": ranking[0],
                            "intent_ranking": ranking, "crisis_probability": second,
                            "crisis_type": crisis_type})
    CrisisSafetyNet(CrisisSafetyNet.get_default_config()).process([message])
    assert message.get("intent")["name"] == expected
    assert message.get("safety_net")["layer"] == layer


def test_a_sure_second_opinion_does_not_override_an_idiom(nlp):
    from rasa.shared.nlu.training_data.message import Message

    from bot.safety_net import CrisisSafetyNet

    ranking = [{"name": "concern_tantrums", "confidence": 0.9}]
    message = Message(data={"text": "this tantrum is killing me", "intent": ranking[0],
                            "intent_ranking": ranking, "crisis_probability": 0.95})
    CrisisSafetyNet(CrisisSafetyNet.get_default_config()).process([message])
    assert message.get("intent")["name"] == "concern_tantrums"
