"""chat/answers.py: what the bots answer before any platform's markup: help or a query, pages, button state, wording."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pprfeed.archive.search import MatchKind, QueryEngine
from pprfeed.chat.answers import (
    PAGE_SIZE,
    Action,
    ButtonState,
    ask,
    button_state,
    heading,
    page_footer,
    page_of,
    short_citation,
)


@pytest.mark.parametrize(
    ("citation", "short"),
    [
        (
            "Norcross, J. C., & Lambert, M. J. (2018). Psychotherapy relationships that work III.",
            "Norcross & Lambert (2018)",
        ),
        ("Murphy, R. & Hutton, P. (2017). Therapist variability.", "Murphy & Hutton (2017)"),
        (
            "Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The alliance.",
            "Flückiger et al. (2018)",
        ),
        (
            "Cuijpers, P., Driessen, E., Hollon, S. D., van Oppen, P., Barth, J. (2012). Supportive.",
            "Cuijpers et al. (2012)",
        ),
        ("Yulish, N. E., Goldberg, S. B., . . . Wampold, B. E. (2017). Problems.", "Yulish et al. (2017)"),
        ("Smith, A. (2020a). Alone.", "Smith (2020a)"),
        ("Some Committee (in press). Guidelines.", "Some Committee (in press)"),
        ("A reference with no year at all", "A reference with no year at all"),
    ],
)
def test_short_citation(citation: str, short: str) -> None:
    assert short_citation(citation) == short


@pytest.mark.parametrize("typed", ["", "  ", "help", "HELP", "topics", "list", "?"])
def test_help_words_list_the_topics(archive, typed: str) -> None:
    assert ask(QueryEngine(archive), typed).kind is MatchKind.LIST


def test_anything_else_is_a_query(archive) -> None:
    result = ask(QueryEngine(archive), "alliance")
    assert result.kind is MatchKind.TOPIC
    assert heading(result).startswith("Alliance")
    assert heading(result).endswith(f"— {len(result.articles)} articles")


def test_button_state_is_checked() -> None:
    assert button_state("n", "3:alliance") == ButtonState(Action.NEXT, 3, "alliance")
    assert button_state("z", "3:alliance") is None
    assert button_state("n", "²:alliance") is None  # a digit to str.isdigit, not to int()
    assert button_state("n", "alliance") is None
    assert button_state("n", "9" * 13 + ":q") is None
    state = button_state("p", "9" * 12 + ":" + "q" * 500)
    assert state is not None
    assert state.page == 100_000  # a tampered page is clamped
    assert len(state.query) == 200  # and the query cut where the engine would cut it


def test_pages_clamp_to_what_exists(archive) -> None:
    result = QueryEngine(archive).find("alliance")
    assert page_of(result, -3).number == 0
    assert page_of(result, 10**9).number == page_of(result, 0).count - 1
    empty = replace(result, articles=())
    assert page_of(empty, 4).articles == ()
    assert page_of(empty, 4).count == 1
    assert PAGE_SIZE == 5


def test_a_topics_footer_says_newest_first(archive) -> None:
    result = QueryEngine(archive).find("alliance")
    assert page_footer(page_of(result, 0)) == "Page 1 of 1 · newest first"


def test_a_word_searchs_footer_says_best_match_first(archive) -> None:
    result = QueryEngine(archive).find("ruptures repair")
    assert result.order == "relevance"
    assert page_footer(page_of(result, 0)) == "Page 1 of 1 · best match first"
