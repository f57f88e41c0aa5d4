"""Write a synthetic archive of realistic articles, for benchmarks.

    python bench/synthetic.py OUT_DIR [--articles 10000] [--seed 1]

Articles are ~3 KB of research-summary prose, 2-3 topics each from the real
vocabulary (content/topics.toml), twelve per monthly issue (so 10,000 reach back to the 1950s), going back in time
from the newest month. The same arguments always give the same files.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment of a timed pprfeed process, its modules compiled ahead as an installed pprfeed has them,
    so no start pays for compiling."""
    compileall.compile_dir(str(ROOT / "src" / "pprfeed"), quiet=1)
    return dict(os.environ)


WORDS = [
    "therapist",
    "client",
    "alliance",
    "outcome",
    "session",
    "treatment",
    "depression",
    "anxiety",
    "meta-analysis",
    "randomized",
    "trial",
    "effect",
    "size",
    "rupture",
    "repair",
    "empathy",
    "feedback",
    "monitoring",
    "cognitive",
    "behavioural",
    "psychodynamic",
    "interpersonal",
    "group",
    "attachment",
    "trauma",
    "symptom",
    "relapse",
    "dropout",
    "adherence",
    "expectation",
    "preference",
    "supervision",
    "training",
    "deliberate",
    "practice",
    "countertransference",
    "transference",
    "placebo",
    "medication",
    "comorbidity",
    "personality",
    "suicide",
    "crisis",
    "termination",
    "frequency",
    "length",
    "dose",
    "response",
    "follow-up",
    "clinicians",
    "patients",
    "adolescents",
    "adults",
    "couples",
    "community",
    "naturalistic",
    "setting",
    "measure",
    "reliable",
    "moderate",
    "significant",
    "correlation",
    "confidence",
    "interval",
    "studies",
    "participants",
    "sample",
    "variance",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 24))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def paragraph(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < chars:
        parts.append(sentence(rng))
    return " ".join(parts)


def topic_slugs() -> list[str]:
    import tomllib

    data = tomllib.loads((ROOT / "content" / "topics.toml").read_text(encoding="utf-8"))
    return [topic["slug"] for topic in data["topic"]]


def month_of(index: int, newest: tuple[int, int] = (2026, 10)) -> str:
    year, month = newest
    total = year * 12 + (month - 1) - index
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def write_article(folder: Path, number: int, rng: random.Random, slugs: list[str]) -> None:
    topics = rng.sample(slugs, rng.randint(2, 3))
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))).capitalize()
    author = rng.choice(["Smith", "Tremblay", "Müller", "Flückiger", "Nguyen", "Okafor", "García"])
    citation = (
        f"{author}, A. B., & Other, C. ({2000 + number % 25}). {title}. "
        f"Journal of Psychotherapy Research, {number % 60}(4), {number % 300}-{number % 300 + 15}."
    )
    body = f"{paragraph(rng, 1100)}\n\n{paragraph(rng, 900)}\n\n## Practice Implications\n\n{paragraph(rng, 800)}\n"
    front = (
        f'+++\ntitle = "{title}"\ntopics = {topics!r}\ncitation = "{citation}"\n'
        f'doi = "10.{1000 + number % 9000}/synthetic.{number}"\nresearch_type = "meta-analysis"\n+++\n'
    ).replace("'", '"')
    (folder / f"article-{number:05d}.md").write_text(front + body, encoding="utf-8")


def write_archive(out: Path, articles: int = 10_000, seed: int = 1, per_issue: int = 12) -> Path:
    """(Re)create `out` as a content folder holding `articles` synthetic articles."""
    rng = random.Random(seed)
    slugs = topic_slugs()
    if out.exists():
        shutil.rmtree(out)
    (out / "issues").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "topics.toml", out / "topics.toml")
    for number in range(articles):
        folder = out / "issues" / month_of(number // per_issue)
        folder.mkdir(exist_ok=True)
        write_article(folder, number, rng, slugs)
    return out


def add_issue(out: Path, articles: int = 3, seed: int = 2) -> Path:
    """Add one monthly issue newer than any in `out` (for rebuild benchmarks)."""
    rng = random.Random(seed)
    newest = max(p.name for p in (out / "issues").iterdir())
    year, month = int(newest[:4]), int(newest[5:])
    folder = out / "issues" / month_of(-1, (year, month))
    folder.mkdir()
    for number in range(articles):
        write_article(folder, 900_000 + number, rng, topic_slugs())
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_archive(args.out, args.articles, args.seed)
    print(f"wrote {args.articles} articles to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
