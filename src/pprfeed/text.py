"""Small text helpers shared by the loader, the importer and the query engine."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
"""An e-mail address as far as a feed or a mailto: link needs: something@host.domain."""
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Flückiger' and 'FLUCKIGER' both give 'fluckiger'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def normalize(text: str) -> str:
    """`fold`, then every run of punctuation and space becomes one space."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def slugify(text: str) -> str:
    return _NON_ALNUM.sub("-", fold(text)).strip("-")


def normalize_doi(raw: str) -> str | None:
    """A bare DOI from any spelling the blog used (`doi:…`, `DOI: …`, a doi.org URL), or None."""
    candidate = _DOI_PREFIX.sub("", raw.strip()).strip().rstrip(".,;")
    return candidate if _DOI.fullmatch(candidate) else None


def find_doi(text: str) -> tuple[str, str] | None:
    """The first DOI in free text, as (bare DOI, the exact text it was written as)."""
    match = re.search(r"(?:https?://(?:dx\.)?doi\.org/|\bdoi:\s*)?(10\.\d{4,9}/[^\s]+)", text, re.IGNORECASE)
    if not match:
        return None
    written = match.group(0).rstrip(".,;")
    return match.group(1).rstrip(".,;"), written


def did_you_mean(wrong: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest choice to `wrong`, compared case- and accent-insensitively, or None."""
    by_key: dict[str, str] = {}
    for choice in choices:
        by_key.setdefault(normalize(choice), choice)
    close = difflib.get_close_matches(normalize(wrong), list(by_key), n=1, cutoff=cutoff)
    return by_key[close[0]] if close else None


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 article`, `2 articles`: output reads as English, not `article(s)`."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary and ended with `ellipsis`."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[:limit]
    cut = text.rfind(" ", 0, room + 1)
    if cut <= room // 2:  # one enormous word: cut inside it rather than lose most of the room
        cut = room
    return text[:cut].rstrip() + ellipsis
