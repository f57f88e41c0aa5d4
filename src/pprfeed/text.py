"""Small text helpers shared by the loader, the importer and the query engine."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

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


TYPO_RATIO = 0.8
"""How alike (difflib's ratio) a word and a spelling must be to count as a typo of it: one wrong,
missing or extra letter in a word of five or more."""


def is_typo_of(typed: str, spelling: str) -> bool:
    """Whether `typed` is genuinely close to `spelling` (both `normalize`d): a typo, not a different word.

    Words of five letters or more: difflib's ratio at least TYPO_RATIO ("depresion", "anxeity").
    Shorter words: the same length and one letter wrong or two swapped ("ptds" for "ptsd"), since one
    letter changes a short word into another ("act" is no typo of "ct"). Several words ("trauma ptsd",
    "counter transference"): close as a whole, or each word a typo of its own word of the spelling, in order.
    """
    return bool(typo_matches(typed, [spelling], most=1, normalized=True))


def typo_matches(typed: str, spellings: Iterable[str], most: int = 3, normalized: bool = False) -> list[str]:
    """The spellings `typed` is a typo of (see `is_typo_of`), closest first, compared `normalize`d.

    The one typo matcher: the query engine's did-you-mean and every "did you mean" of `pprfeed check`
    and the settings (through `did_you_mean`) use it, so none suggests a word that only shares some
    letters. `normalized`: `typed` and `spellings` are `normalize`d already (faster).
    """
    key = typed if normalized else normalize(typed)
    if not key:
        return []
    by_key: dict[str, str] = {}
    for spelling in spellings:
        by_key.setdefault(spelling if normalized else _normalized(spelling), spelling)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(key)  # difflib caches what it learns about the second sequence
    words = key.split()
    close_words = _close_words(words, by_key) if len(words) > 1 else []
    scored: list[tuple[float, str]] = []
    for candidate, spelling in by_key.items():
        if not candidate:
            continue
        if candidate == key:
            scored.append((1.0, spelling))
            continue
        if not close_words and 2 * min(len(candidate), len(key)) < 0.75 * (len(candidate) + len(key)):
            continue  # too different in length to be a typo: difflib's ratio cannot reach it
        matcher.set_seq1(candidate)
        if len(words) == 1 and len(key) <= 4:
            if len(candidate) == len(key) and (ratio := matcher.ratio()) >= 0.75:
                scored.append((ratio, spelling))
            continue
        # difflib's cheap upper bounds first: most candidates fail them
        if (
            matcher.real_quick_ratio() >= TYPO_RATIO
            and matcher.quick_ratio() >= TYPO_RATIO
            and (ratio := matcher.ratio()) >= TYPO_RATIO
        ):
            scored.append((ratio, spelling))
            continue
        if close_words and _in_order(close_words, candidate.split()):
            scored.append((matcher.ratio(), spelling))
    scored.sort(key=lambda pair: -pair[0])  # stable: equally close spellings keep their order
    return [spelling for _, spelling in scored[:most]]


def _close_words(words: list[str], candidates: Iterable[str]) -> list[set[str]]:
    """For each typed word, the words of the candidates it equals or is a typo of."""
    vocabulary = {word for candidate in candidates for word in candidate.split()}
    return [set(typo_matches(word, vocabulary, most=len(vocabulary), normalized=True)) for word in words]


def _in_order(close_words: list[set[str]], candidate: list[str]) -> bool:
    rest = iter(candidate)  # each typed word takes the next word of the candidate it is close to
    return all(any(word in close for word in rest) for close in close_words)


@functools.lru_cache(maxsize=8192)
def _normalized(text: str) -> str:
    return normalize(text)


def did_you_mean(wrong: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest choice `wrong` is a typo of (`typo_matches`), or None.

    `cutoff` (difflib's ratio) may make it stricter for single words; it never makes it looser than a typo.
    """
    key = normalize(wrong)
    for choice in typo_matches(key, choices, most=5):
        if " " in key or difflib.SequenceMatcher(None, _normalized(choice), key).ratio() >= cutoff:
            return choice
    return None


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 article`, `2 articles`: output reads as English, not `article(s)`."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def shorten(text: str, limit: int, ellipsis: str = "…", keep_whole: Callable[[str, int], int] | None = None) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary and ended with `ellipsis`.

    `keep_whole(text, cut)` may move the cut back, so it splits no markup (chat/escape.py)."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[:limit]
    cut = text.rfind(" ", 0, room + 1)
    if cut <= room // 2:  # one enormous word: cut inside it rather than lose most of the room
        cut = room
    if keep_whole is not None:
        cut = keep_whole(text, cut)
    return text[:cut].rstrip() + ellipsis
