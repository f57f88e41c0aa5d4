"""content/synonyms.toml: what `pprfeed check` says about it, and that the CLI and the bots search with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import CONTENT, copy_content
from pprfeed.archive.load import load_archive
from pprfeed.archive.search import MatchKind, QueryEngine
from pprfeed.archive.synonyms import Synonyms, check_synonyms, load_synonyms
from pprfeed.bots.live import LiveArchive
from pprfeed.cli import main
from pprfeed.config import SiteSettings


def with_synonyms(tmp_path: Path, text: str) -> Path:
    content = copy_content(tmp_path)
    (content / "synonyms.toml").write_text(text, encoding="utf-8")
    return content


def problems(content: Path) -> list[str]:
    archive, diagnostics = load_archive(content)
    assert archive is not None, diagnostics
    return [str(d).replace(str(content) + "/", "") for d in check_synonyms(content, archive)]


def test_the_seed_synonyms_pass_the_check(archive) -> None:
    assert check_synonyms(CONTENT, archive) == []
    assert len(load_synonyms(CONTENT)) >= 50


def test_synonyms_toml_is_no_stray_entry() -> None:
    archive, diagnostics = load_archive(CONTENT)
    assert archive is not None and diagnostics == []


def test_every_problem_is_named_with_its_line(tmp_path: Path) -> None:
    content = with_synonyms(
        tmp_path,
        "# synonyms\n"  # 1
        'adolescents = ["youth", "teens"]\n'  # 2
        'adolecents = ["kids"]\n'  # 3: no such word in the articles
        'children = ["teens", "tots"]\n'  # 4: "teens" twice
        'depression = ["cbt", "low mood",\n'  # 5: "cbt" is another topic's alias
        '  "mdd"]\n'  # 6: "mdd" is Depression's own alias
        'homework = ["homework"]\n'  # 7: points at itself
        'empathy = ["youth"]\n'  # 8: "youth" twice, for another target
        'alliance = ["children"]\n'  # 9: "children" is a target itself
        'anxiety = "worry"\n',  # 10: not a list
    )
    found = problems(content)
    assert found == [
        'synonyms.toml:3: "adolecents" is neither a topic nor a word that occurs in the articles — '
        "write a topic's name, slug or alias, or a word as the summaries spell it; or remove the line",
        'synonyms.toml:4: synonym "teens" is listed twice (lines 2 and 4: for "adolescents" and for "children") — '
        "keep one of the two: a word can stand for one thing only",
        'synonyms.toml:5: synonym "cbt" is a topic\'s name, slug or alias — remove it: it is a spelling of the topic '
        "Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT) in topics.toml, and a word can stand for one "
        "thing only (move it between topics in topics.toml if it belongs elsewhere)",
        'synonyms.toml:6: synonym "mdd" is a topic\'s name, slug or alias — remove it here: topics.toml already makes '
        "it a spelling of Depression and Depressive Symptoms",
        'synonyms.toml:7: synonym "homework" is the word it stands for — remove it',
        'synonyms.toml:8: synonym "youth" is listed twice (lines 2 and 8: for "adolescents" and for "empathy") — '
        "keep one of the two: a word can stand for one thing only",
        'synonyms.toml:9: synonym "children" is also a target (line 4) — list its synonyms under "alliance" '
        "instead: synonyms do not chain",
        'synonyms.toml:10: "anxiety" must be a list of synonyms in double quotes — write anxiety = ["one word", '
        '"another"]',
    ]


def test_a_typo_of_a_topic_as_target_is_suggested(tmp_path: Path) -> None:
    content = with_synonyms(tmp_path, 'depresion = ["low mood"]\n')
    assert problems(content) == [
        'synonyms.toml:1: "depresion" is neither a topic nor a word that occurs in the articles — did you mean the '
        'topic "depression"? write a topic\'s name, slug or alias, or a word as the summaries spell it; or remove '
        "the line"
    ]


def test_a_toml_mistake_is_reported_at_its_line(tmp_path: Path) -> None:
    content = with_synonyms(tmp_path, 'adolescents = ["youth", "teens"]\nchildren = [“kids”]\n')
    (problem,) = problems(content)
    assert problem.startswith("synonyms.toml:2: TOML syntax error: the value is in curly quotes") and " — " in problem
    assert load_synonyms(content) == Synonyms()  # the engine then goes without: the check says why


def test_a_synonym_the_wrong_way_round_is_named(tmp_path: Path) -> None:
    content = with_synonyms(tmp_path, 'kids = ["children"]\n')
    assert problems(content) == [
        'synonyms.toml:1: "kids" is neither a topic nor a word that occurs in the articles — write it the other '
        'way round: children = ["kids"]'
    ]


def test_targets_with_accents_and_phrases_are_found_as_written(tmp_path: Path) -> None:
    content = with_synonyms(tmp_path, '"Flückiger" = ["fluckinger"]\n"substance use" = ["addiction"]\n')
    assert problems(content) == []


def test_no_file_is_fine(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "synonyms.toml").unlink()
    assert problems(content) == [] and load_synonyms(content) == Synonyms()


def test_pprfeed_check_reports_synonym_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = with_synonyms(tmp_path, 'adolescents = ["youth", "youth"]\n')
    assert main(["check", "--content", str(content)]) == 1
    err = capsys.readouterr().err
    assert 'synonyms.toml:1: synonym "youth" is listed twice for "adolescents" (lines 1 and 1)' in err
    assert "1 problem found — fix them and run `pprfeed check` again." in err
    assert main(["check", "--content", str(CONTENT)]) == 0


def test_pprfeed_topic_searches_with_the_synonyms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = with_synonyms(tmp_path, 'adolescents = ["whippersnappers"]\n')
    assert main(["topic", "whippersnappers", "--content", str(content)]) == 0
    assert "Therapeutic Alliance in the Treatment of Adolescents" in capsys.readouterr().out


def test_the_bots_search_with_the_synonyms_and_see_them_change(tmp_path: Path) -> None:
    content = with_synonyms(tmp_path, 'adolescents = ["teens"]\n')
    live = LiveArchive(content, site=SiteSettings(), command="/ppr-topic", today=date.today)
    live.load()
    assert live.snapshot.engine.find("teens").articles[0].citation.startswith("Murphy")
    assert live.snapshot.engine.find("whippersnappers").kind is MatchKind.NONE
    (content / "synonyms.toml").write_text('adolescents = ["teens", "whippersnappers"]\n', encoding="utf-8")
    assert live.refresh() is True
    assert live.snapshot.engine.find("whippersnappers").articles[0].citation.startswith("Murphy")


def test_synonyms_can_be_given_directly(archive) -> None:
    engine = QueryEngine(archive, Synonyms.of({"adolescents": ["tweens"], "Depression": ["blues"]}))
    assert engine.find("tweens").articles[0].citation.startswith("Murphy")
    assert engine.find("blues").topics == (archive.topic("depression-and-depressive-symptoms"),)
