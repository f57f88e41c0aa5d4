"""Where issues are posted, as delivery sees it at run time.

The targets, platform settings and secrets are read and checked with the rest
of pprfeed.toml in config.py; this module adds what publishing needs on top:
keeping every secret out of the log while it runs.
"""

from __future__ import annotations

import logging

from pprfeed.config import PlatformSettings, PublishSettings, Secrets, Target

__all__ = ["PlatformSettings", "PublishSettings", "RedactingFilter", "Secrets", "Target"]


class RedactingFilter(logging.Filter):
    """Installed on the log handlers while publishing: no token or webhook URL reaches a log line."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.secrets.redact(message)
        record.args = ()
        return True
