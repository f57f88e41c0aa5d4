"""The search engine's edges: SQLite without FTS5, FTS5 syntax in what people type, the one typo matcher."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from conftest import CONTENT, copy_content, write_article
from pprfeed.archive import search
from pprfeed.archive.load import load_archive
from pprfeed.archive.search import MatchKind, QueryEngine, QueryResult, SearchUnavailable, explain, fts_phrase
from pprfeed.text import did_you_mean, is_typo_of, typo_matches


class NoFts5:
    """A connection whose SQLite was built without FTS5."""

    closed = False

    def execute(self, sql: str, *args: object) -> None:
        raise sqlite3.OperationalError("no such module: fts5")

    def close(self) -> None:
        self.closed = True


def test_sqlite_without_fts5_is_said_clearly() -> None:
    connection = NoFts5()
    with pytest.raises(SearchUnavailable) as raised:
        search._check_fts5(connection)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "full-text search (FTS5)" in message
    assert "no such module: fts5" in message
    assert f"SQLite {sqlite3.sqlite_version}" in message
    assert "Use a Python whose SQLite has FTS5" in message
    assert connection.closed


def test_the_engine_checks_for_fts5_when_it_is_built(archive, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise SearchUnavailable("no FTS5 here")

    monkeypatch.setattr(search, "require_fts5", missing)
    with pytest.raises(SearchUnavailable, match="no FTS5 here"):
        QueryEngine(archive)  # at start-up, not on somebody's first text query


def test_this_python_has_fts5() -> None:
    search.require_fts5()


def test_fts_phrase_quotes_everything() -> None:
    assert fts_phrase("alliance") == '"alliance"'
    assert fts_phrase('say "hi"') == '"say ""hi"""'
    assert fts_phrase("allian", prefix=True) == '"allian"*'
    assert fts_phrase("", prefix=True) == '""'


def test_no_text_is_fts5_syntax_once_quoted(archive) -> None:
    """Random strings of FTS5's special characters and keywords: quoted, they never error or change meaning."""
    index = QueryEngine(archive)._text_index()
    rng = random.Random(3)
    pieces = ['"', "'", "*", "-", "+", ":", "^", "(", ")", "{", "}", "NEAR", "AND", "OR", "NOT", "title", "alliance"]
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        index.count(fts_phrase(text))
        index.count(fts_phrase(text, prefix=True))
    assert index.count(fts_phrase("alliance NOT ruptures")) == 0  # a phrase: NOT is a word here, in no article
    assert index.count(fts_phrase("title: alliance")) == index.count(fts_phrase("title alliance"))


def test_query_results_keep_their_old_shape() -> None:
    result = QueryResult("", MatchKind.LIST, (), ())  # how callers build the help answer
    assert result.suggestions == () and result.searched == () and result.boosted == () and result.order == "newest"


# --- the one typo matcher ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "spelling"),
    [
        ("depresion", "depression"),
        ("anxeity", "anxiety"),
        ("aliance", "alliance"),
        ("psychodinamic", "psychodynamic"),
        ("ptds", "ptsd"),
        ("counter transference", "countertransference"),
        ("trauma ptsd", "trauma and or ptsd"),
    ],
)
def test_typos(typed: str, spelling: str) -> None:
    assert is_typo_of(typed, spelling)


@pytest.mark.parametrize(
    ("typed", "spelling"),
    [
        ("adolescents", "antidepressants"),  # what `check` used to suggest
        ("substance", "resistance"),
        ("homework", "networks"),
        ("norcross", "costs"),
        ("murphy", "empathy"),
        ("zebrafish", "brain"),
        ("act", "ct"),
        ("substance use", "resistance"),
    ],
)
def test_not_typos(typed: str, spelling: str) -> None:
    assert not is_typo_of(typed, spelling)


def test_did_you_mean_uses_the_typo_matcher() -> None:
    assert did_you_mean("titel", ["title", "topics"]) == "title"
    assert did_you_mean("adolescents", ["Medications", "antidepressants"], cutoff=0.5) is None
    assert typo_matches("Depresion", ["Depression and Depressive Symptoms", "depression", "Placebo"]) == ["depression"]


def test_check_suggests_no_unrelated_topic(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    write_article(content, "2019-01", "teens", "Teens", ["adolescents"])
    write_article(content, "2019-01", "typo", "Typo", ["depresion"])
    _, diagnostics = load_archive(content)
    by_file = {Path(d.path).name: d for d in diagnostics}
    assert 'unknown topic "adolescents"' in by_file["teens.md"].message
    assert "did you mean" not in by_file["teens.md"].fix  # not "Medications/Pharmacotherapy"
    assert 'did you mean "Depression and Depressive Symptoms"' in by_file["typo.md"].fix


# --- the engine's help listing and explanations --------------------------------------------------------


def test_a_topic_with_no_articles_still_resolves(archive) -> None:
    engine = QueryEngine(archive)
    assert engine.counts["adherence"] == 0
    result = engine.find("adherence")
    assert result.kind is MatchKind.TOPIC and result.topics == (archive.topic("adherence"),)


def test_the_engine_explains_what_it_searched(archive) -> None:
    engine = QueryEngine(archive)
    result = engine.find("zzzz qqqq")
    assert explain(result, len(engine.articles)) == (
        "Looked for “zzzz” “qqqq” in topic names and aliases, and the titles, practice implications, "
        "summaries and citations of 6 articles."
    )


def test_content_readme_documents_synonyms() -> None:
    guide = (CONTENT / "README.md").read_text(encoding="utf-8")
    assert "## synonyms.toml" in guide and "pprfeed check" in guide.split("## synonyms.toml")[1]


def test_pprfeed_topic_without_fts5_says_so_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pprfeed.cli import main

    def missing() -> None:
        raise SearchUnavailable("searching the archive needs SQLite's full-text search (FTS5)")

    monkeypatch.setattr(search, "require_fts5", missing)
    code = main(["topic", "alliance"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "pprfeed topic: searching the archive needs SQLite's full-text search (FTS5)\n"
