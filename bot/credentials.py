"""The channels Rasa starts: ``credentials.yml`` with every connector whose ``${VARIABLES}``
are all set, and without those whose variables are missing.

Rasa itself fails to start when a ``${VAR}`` in credentials.yml is unset, so a committed
file that names Telegram's and Twilio's variables could not run with neither configured.
The launcher writes ``var/credentials.yml`` from it instead; the ``${...}`` references are
kept, so Rasa reads the secrets from its environment and none is written to disk.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ROOT

logger = logging.getLogger(__name__)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEMPLATE = ROOT / "credentials.yml"


def variables(section: Any) -> set[str]:
    """Every ``${NAME}`` a channel's settings refer to."""
    if isinstance(section, dict):
        return set().union(*(variables(v) for v in section.values())) if section else set()
    if isinstance(section, list):
        return set().union(*(variables(v) for v in section)) if section else set()
    return set(VARIABLE.findall(section)) if isinstance(section, str) else set()


def enabled_channels(template: dict[str, Any], env: Mapping[str, str]
                     ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(channels to start, {channel left out: the variables it is missing})."""
    enabled: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    for name, section in template.items():
        unset = sorted(v for v in variables(section) if not (env.get(v) or "").strip())
        if unset:
            missing[name] = unset
        else:
            enabled[name] = section
    return enabled, missing


def write_credentials(path: Path | None = None, env: Mapping[str, str] | None = None,
                      template: Path = TEMPLATE) -> Path:
    """Write the credentials file for this environment and say which channels are off."""
    env = os.environ if env is None else env
    path = path or ROOT / "var" / "credentials.yml"
    loaded = yaml.safe_load(template.read_text(encoding="utf-8")) or {}
    enabled, missing = enabled_channels(loaded, env)
    for name, unset in missing.items():
        logger.info("channel %s is off: %s not set", name.rsplit(".", 1)[-1], ", ".join(unset))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by bot/credentials.py from credentials.yml; do not edit.\n"
                    + yaml.safe_dump(enabled, sort_keys=False), encoding="utf-8")
    return path
