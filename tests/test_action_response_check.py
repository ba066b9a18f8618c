"""The cached check of action-server answers accepts and rejects what Rasa's own does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import action_response_check

GOOD = [
    {"events": [{"event": "slot", "name": "concern", "value": "yelling"}],
     "responses": [{"text": "A gentle answer", "buttons": [{"title": "more", "payload": "/b"}]}]},
    {"events": [], "responses": []},
    {},
]
BAD = [
    {"events": [{"name": "no event type"}]},
    {"events": "not a list"},
    {"responses": "not a list"},
]


def _rasa_original(result: dict) -> None:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())


@pytest.mark.parametrize("result", GOOD)
def test_accepts_what_rasa_accepts(result):
    _rasa_original(result)
    assert action_response_check.validate_action_result(None, result) is True


@pytest.mark.parametrize("result", BAD)
def test_rejects_what_rasa_rejects_with_the_same_error(result):
    with pytest.raises(jsonschema.ValidationError) as original:
        _rasa_original(result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        action_response_check.validate_action_result(None, result)
    assert ours.value.message.startswith(original.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(original.value.path)


def test_install_replaces_rasas_check_on_remote_actions():
    original = RemoteAction._validate_action_result
    try:
        action_response_check.install()
        action = RemoteAction("action_repair", None)
        assert action._validate_action_result(GOOD[0]) is True
        with pytest.raises(jsonschema.ValidationError):
            action._validate_action_result(BAD[0])
    finally:
        RemoteAction._validate_action_result = original
