"""The project's own spaCy pipeline: lemmas for the featurizer, child ages as entities."""

import pytest


def test_lookup_lemmas(nlp):
    lemmas = {t.text: t.lemma_ for t in nlp("i yelled and she was yelling and he shook")}
    assert lemmas["yelled"] == "yell"
    assert lemmas["yelling"] == "yell"
    assert lemmas["shook"] == "shake"


@pytest.mark.parametrize("text, age", [
    ("my 18-month-old keeps biting", "18-month-old"),
    ("a 3yo who screams", "3yo"),
    ("our newborn cries all night", "newborn"),
    ("we are at 6 weeks old now", "6 weeks old"),
    ("she is 6 weeks old", "she is 6 weeks old"),
    ("he just turned 3", "he just turned 3"),
    ("my two year old hits", "two year old"),
    ("i yelled at my daughter, she is 4", "she is 4"),
    ("my son's 7 and won't talk to me", "son's 7"),
    ("he's 4 months and cries a lot", "he's 4 months"),
])
def test_child_age_entities(nlp, text, age):
    ents = [(e.text, e.label_) for e in nlp(text).ents]
    assert (age, "child_age") in ents


def test_child_name_after_kinship_word(nlp):
    ents = [(e.text, e.label_) for e in nlp("I yelled at my son Leo this morning").ents]
    assert ("my son Leo", "child_name") in ents


def test_no_age_in_ordinary_text(nlp):
    assert not [e for e in nlp("i feel so guilty about work").ents if e.label_ == "child_age"]
