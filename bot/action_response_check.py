"""Rasa's check of the action server's answers, without re-checking Rasa's own schema.

For every custom action call, Rasa 3.6 (``RemoteAction._validate_action_result``) calls
``jsonschema.validate(result, schema)``. With jsonschema 4.x that first validates the
*schema* against the 2020-12 meta-schema, every time: about 27 ms of CPU per action call
on this project's 2-core machine, half of the Rasa server's time per parent message
(measured with py-spy during `make bench`). The schema is Rasa's constant, so here it is
checked once and its validator kept; the answer itself is still validated exactly as
jsonschema.validate does (same validator class, same best-match error, same message).
Installed by the Rasa server at start-up (bot/counsellor_channel.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """Rasa's response-format validator, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Drop-in for ``RemoteAction._validate_action_result`` (same errors, same text)."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Use the cached validator in this process (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
