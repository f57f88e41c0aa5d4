"""The `pprfeed` command: exit codes, no tracebacks, help for every subcommand, topic output."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONTENT, ROOT
from pprfeed.cli import build_parser, main


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "pprfeed", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_python_m_pprfeed_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "usage: pprfeed" in result.stdout
    for name in ("check", "topic", "import"):
        assert name in result.stdout


def test_every_subcommand_has_help_text() -> None:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(helps) == set(action.choices), "a subcommand was added without help="
    for name, subparser in action.choices.items():
        assert helps[name], f"`pprfeed {name}` has no help text"
        assert subparser.description, f"`pprfeed {name}` has no description"
        for argument in subparser._actions:
            if not isinstance(argument, argparse._HelpAction):
                assert argument.help, f"`pprfeed {name}` option {argument.dest} has no help text"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_subcommand_help_runs(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    assert f"usage: pprfeed {name}" in capsys.readouterr().out


def test_check_passes_on_the_real_archive_with_a_summary() -> None:
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    first, *rest = result.stdout.splitlines()
    assert first == "content: OK — 6 live issues, 6 articles, 12 of 36 topics used"
    summary = "\n".join(rest)
    assert "newest issue: November 2018 (2018-11, published 2018-11-01), 1 article\n" in summary
    assert "oldest issue: October 2017" in summary
    assert "most used topics: Alliance and Therapeutic Relationship (4), Common Factors (3), " in summary
    assert "Depression and Depressive Symptoms (2), Efficacy of Treatments (2)" in summary


def test_check_fails_on_a_broken_archive_without_a_traceback(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "issues" / "2018-01").mkdir(parents=True)
    (content / "topics.toml").write_bytes((CONTENT / "topics.toml").read_bytes())
    (content / "issues" / "2018-01" / "a.md").write_text('+++\ntitle = "T"\ntopics = [cbt]\n+++\n', encoding="utf-8")
    (content / "issues" / "2018-01" / "b.md").write_bytes(b"+++\ntitle = '\xe9'\n")
    (content / "stray.txt").write_text("x", encoding="utf-8")
    result = run("check", "--content", str(content))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert f"{content}/issues/2018-01/a.md:3: TOML syntax error" in lines[0]
    assert any(line.startswith(f"{content}/issues/2018-01/b.md:2: ") and "UTF-8" in line for line in lines)
    assert any(line.startswith(f"{content}/stray.txt: ") for line in lines)
    assert all(" — " in line for line in lines[:-1])
    assert "3 problems" in lines[-1]


def test_check_paths_are_relative_to_the_working_folder(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "issues").mkdir(parents=True)
    (content / "topics.toml").write_bytes((CONTENT / "topics.toml").read_bytes())
    (content / "issues" / "oops.txt").write_text("x", encoding="utf-8")
    result = run("check", "--content", "content", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("content/issues/oops.txt: stray file in issues/ — ")


def test_check_missing_content_folder(tmp_path: Path, capsys) -> None:
    assert main(["check", "--content", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "content folder not found" in err and "--content" in err


def test_unknown_subcommand_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --- pprfeed topic -------------------------------------------------------------------------


def topic(*args: str, capsys) -> tuple[int, str, str]:
    code = main(["topic", *args, "--content", str(CONTENT)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_topic_alliance_text(capsys) -> None:
    code, out, _ = topic("alliance", capsys=capsys)
    assert code == 0
    assert out.startswith("Topic: Alliance and Therapeutic Relationship — 4 articles")
    months = [line.split()[0] for line in out.splitlines() if line.startswith("  20")]
    assert months == ["2018-11", "2018-08", "2018-03", "2017-10"]
    assert "https://doi.org/10.1037/pst0000172" in out


def test_topic_json_shape_and_limit(capsys) -> None:
    code, out, _ = topic("alliance", "--json", "--limit", "2", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["match"] == "topic" and data["total"] == 4
    assert data["topics"] == [
        {"slug": "alliance-and-therapeutic-relationship", "name": "Alliance and Therapeutic Relationship"}
    ]
    assert len(data["articles"]) == 2
    first = data["articles"][0]
    assert set(first) == {"id", "title", "month", "topics", "citation", "doi", "doi_url", "link"}
    assert first["month"] == "2018-11" and first["id"].startswith("2018-11-")
    assert data["articles"][1]["doi"] == "10.1037/pst0000172"
    assert data["articles"][1]["doi_url"] == "https://doi.org/10.1037/pst0000172"
    # the link is the article's page, as in the feeds and chat posts (every article has one)
    assert first["link"] == f"http://localhost:8000/articles/{first['id']}.html"


def test_topic_limit_in_text_says_how_many_more(capsys) -> None:
    code, out, _ = topic("alliance", "--limit", "1", capsys=capsys)
    assert code == 0
    assert out.count("\n  20") == 1 and "… and 3 more (raise --limit)" in out


def test_topic_bad_limit(capsys) -> None:
    code, _, err = topic("alliance", "--limit", "0", capsys=capsys)
    assert code == 2 and "--limit must be 1 or more" in err


def test_topic_without_query_lists_36_topics_with_counts(capsys) -> None:
    code, out, _ = topic(capsys=capsys)
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 36
    assert "   4  Alliance and Therapeutic Relationship  (alliance-and-therapeutic-relationship)" in rows
    code, out, _ = topic("--json", capsys=capsys)
    data = json.loads(out)
    assert data["match"] == "list" and len(data["topics"]) == 36
    assert {"slug": "adherence", "name": "Adherence", "articles": 0} in data["topics"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cbt", "Topic: Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT) — 1 article"),
        ("Adherance", "Topic: Adherence — 0 articles"),
        ("depresion", 'No topic "depresion"; showing the closest, Depression and Depressive Symptoms — 2 articles'),
        ("countertransference", "Topic: Transference and Countertransference — 1 article"),
        ("FLUCKIGER", 'No topic "FLUCKIGER"; articles mentioning "FLUCKIGER" — 1 article'),
    ],
)
def test_topic_acceptance_queries(query: str, expected: str, capsys) -> None:
    code, out, _ = topic(query, capsys=capsys)
    assert code == (1 if " 0 articles" in expected else 0)  # 1: nothing found, as the README says
    assert out.startswith(expected)


def test_topic_nothing_found_exits_1_with_a_hint(capsys) -> None:
    code, out, _ = topic("xyzzyq", capsys=capsys)
    assert code == 1
    assert 'Nothing found for "xyzzyq"' in out and "`pprfeed topic`" in out


def test_topic_nothing_found_says_what_was_searched(capsys) -> None:
    _code, out, _ = topic("xyzzyq", capsys=capsys)
    assert out.splitlines()[1] == (
        "Looked for “xyzzyq” in topic names and aliases, and the titles, practice implications, summaries and "
        "citations of 6 articles."
    )


def test_topic_multi_word_query(capsys) -> None:
    code, out, _ = topic("common", "factors", capsys=capsys)
    assert code == 0 and out.startswith("Topic: Common Factors — 3 articles")


def test_check_config_reports_bot_settings_too(tmp_path: Path, capsys) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[bots]\nslack_command = "/topic"\n', encoding="utf-8")
    assert main(["check", "--content", str(CONTENT), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:2: Slack reserves /topic" in err and 'slack_command = "/ppr-topic"' in err
    assert f"{config}: 1 problem found" in err


@pytest.mark.slow
def test_the_command_leaves_with_its_output_whole_and_its_exit_status(tmp_path: Path) -> None:
    result = run("topic", "alliance", "--json", "--content", str(CONTENT))
    assert result.returncode == 0 and json.loads(result.stdout)["total"] == 4
    broken = tmp_path / "content"
    broken.mkdir()
    result = run("check", "--content", str(broken))
    assert result.returncode == 1 and "problem" in result.stderr and result.stderr.endswith("\n")


def test_check_config_refuses_site_settings_the_feeds_cannot_carry(tmp_path: Path, capsys) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ntitle = ""\nauthor_email = "not an email"\n', encoding="utf-8")
    assert main(["check", "--content", str(CONTENT), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:2: [site] title is empty" in err
    assert f'{config}:3: author_email "not an email" is not an e-mail address' in err
    assert f"{config}: 2 problems found" in err


@pytest.mark.parametrize("option", [["--cache", "some/folder"], ["--cache=some/folder"], ["--no-cache"]])
def test_build_accepts_the_removed_cache_options_with_a_note(option: list[str], tmp_path: Path, capsys) -> None:
    assert main(["build", "--content", str(CONTENT), "--out", str(tmp_path / "feeds"), *option]) == 0
    err = capsys.readouterr().err
    assert f"pprfeed build: {option[0].split('=')[0]} is no longer used; remove it" in err
    assert not (tmp_path / "some").exists()


PUBLISHING_AND_BOTS = ("pprfeed.publish", "pprfeed.bots.live", "pprfeed.bots.slack", "pprfeed.bots.discord")
SDKS = ("discord", "slack_sdk", "aiohttp")
RENDERERS = ("pprfeed.site", "feedgen", "lxml", "markdown_it")


def modules_loaded_by(*argv: str) -> set[str]:
    code = "import sys; from pprfeed.cli import main; main(sys.argv[1:]); print(*sys.modules)"
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split("\n")[-2].split())


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_check_imports_no_publishing_bot_or_feed_code() -> None:
    modules = modules_loaded_by("check", "--content", str(CONTENT))
    assert loaded(modules, PUBLISHING_AND_BOTS + SDKS) == []
    assert loaded(modules, RENDERERS) == []


def test_build_imports_no_publishing_or_bot_code(tmp_path: Path) -> None:
    modules = modules_loaded_by("build", "--content", str(CONTENT), "--out", str(tmp_path / "feeds"))
    assert loaded(modules, PUBLISHING_AND_BOTS + SDKS) == []


def test_check_config_ends_with_the_file_to_fix_and_the_command_to_rerun(tmp_path: Path, capsys) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[[slack.channels]]\nid = "not-a-channel"\n', encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"{config}: 1 problem found — fix it and run `pprfeed check --config {config}` again."


def test_the_command_line_imports_no_platform_search_or_encryption_code_until_a_command_needs_it() -> None:
    # `pprfeed build` and `check` run every month and from cron: they should not pay for the bots' imports
    heavy = ["pprfeed.archive.search", "pprfeed.state", "cryptography", "slack_sdk", "discord", "urllib.request"]
    code = f"import sys, pprfeed.cli, pprfeed.site.build; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
