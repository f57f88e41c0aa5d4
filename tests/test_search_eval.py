"""The search evaluation set (tests/data/search_eval.toml): precision@1 and recall@3 over two archives.

- seed: the real archive, content/ (6 articles);
- large: content/ plus the 40 articles of tests/data/search-archive/ (46 articles, topics from
  content/topics.toml, synonyms from content/synonyms.toml).

precision@1: the share of queries whose first answer is right (the `first` article, or one of the
`top3` ones). recall@3: the share of the expected articles (`first`, or all of `top3`) found among
the first three answers, averaged over the queries. `pytest -s` prints the figures and every miss.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from pprfeed.archive.load import load_archive
from pprfeed.archive.search import QueryEngine
from pprfeed.archive.synonyms import load_synonyms

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
DATA = ROOT / "tests" / "data"
EVAL = tomllib.loads((DATA / "search_eval.toml").read_text(encoding="utf-8"))["query"]

THRESHOLDS = {"precision@1": 0.85, "recall@3": 0.90}
"""Per archive. Chosen before the first run, as what practice teams should be able to count on."""


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, QueryEngine]:
    large = tmp_path_factory.mktemp("search-eval") / "content"
    shutil.copytree(CONTENT, large)
    shutil.copytree(DATA / "search-archive" / "issues", large / "issues", dirs_exist_ok=True)
    engines = {}
    for name, folder in (("seed", CONTENT), ("large", large)):
        archive, diagnostics = load_archive(folder)
        assert archive is not None, "\n".join(map(str, diagnostics))
        engines[name] = QueryEngine(archive, load_synonyms(folder))
    return engines


def test_the_evaluation_set_is_well_formed(engines: dict[str, QueryEngine]) -> None:
    assert len(EVAL) >= 30
    kinds = {case["kind"] for case in EVAL}
    assert {"population", "method", "outcome", "author", "question", "typo", "doi"} <= kinds
    for case in EVAL:
        ids = {article.id for article in engines[case["archive"]].articles}
        expected = [case["first"]] if "first" in case else case["top3"]
        assert expected and set(expected) <= ids, case["q"]


@pytest.mark.parametrize("archive", ["seed", "large"])
def test_precision_at_1_and_recall_at_3(engines: dict[str, QueryEngine], archive: str) -> None:
    engine = engines[archive]
    cases = [case for case in EVAL if case["archive"] == archive]
    hits_at_1 = 0
    recall = 0.0
    misses = []
    for case in cases:
        answer = [article.id for article in engine.find(case["q"]).articles[:3]]
        expected = [case["first"]] if "first" in case else case["top3"]
        right_first = bool(answer) and (answer[0] == case["first"] if "first" in case else answer[0] in expected)
        found = sum(article in answer for article in expected) / len(expected)
        hits_at_1 += right_first
        recall += found
        if not right_first or found < 1:
            misses.append(f"  {case['q']!r} ({case['kind']}): got {answer}, expected {expected}")
    figures = {"precision@1": hits_at_1 / len(cases), "recall@3": recall / len(cases)}
    print(
        f"\n{archive} archive ({len(engine.articles)} articles, {len(cases)} queries): "
        + ", ".join(f"{name} {value:.2f} (threshold {THRESHOLDS[name]:.2f})" for name, value in figures.items())
    )
    print("\n".join(misses) or "  no misses")
    for name, value in figures.items():
        assert value >= THRESHOLDS[name], f"{name} {value:.2f} < {THRESHOLDS[name]}:\n" + "\n".join(misses)
