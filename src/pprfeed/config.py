"""The whole of pprfeed.toml checked at once: what `pprfeed check --config` reports.

Each section is parsed where it is used ([site] in settings.py, [state]/[slack]/[discord]
in targets.py, [bots] in bots/settings.py); this gathers their diagnostics in file order.
"""

from __future__ import annotations

from collections.abc import Mapping

from .bots.settings import load_bot_settings
from .diagnostics import Diagnostic
from .model import Archive
from .settings import Settings
from .targets import check_publish_config


def check_config_file(settings: Settings, archive: Archive, env: Mapping[str, str]) -> list[Diagnostic]:
    """Every problem `pprfeed publish` or the bots would stop on, sorted by file and line."""
    problems = check_publish_config(settings, archive, env) + load_bot_settings(settings)[1]
    return sorted(problems, key=lambda d: (d.path, d.line or 0))
