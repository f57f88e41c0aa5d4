"""Blog-page text -> content files.

The PPRNet blog page is plain text in a loose shape: a month heading
("November 2018"), the title, one citation line, summary paragraphs, a
practice-implications heading (spelled several ways), the implications, and
sometimes an "Author email:" line. Anything before the first month heading
(blog intro, teaser, topic list) is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pprfeed.archive.load import IMPLICATIONS_WORDS
from pprfeed.model import MONTH_NAMES, Topic
from pprfeed.text import find_doi, normalize, slugify

# "November 2018", also "Nov 2018", "Sept. 2018" and "November, 2018"
_MONTH_HEADING = re.compile(r"^([A-Za-z]{3,9})\.?,?\s+(\d{4})$")
# any of load.IMPLICATIONS_SPELLINGS ("Practice Implications", "Clinical Implications", …), which `check` accepts too;
# text after a colon on the same line is the section's first paragraph
_IMPLICATIONS_HEADING = re.compile(r"^" + IMPLICATIONS_WORDS + r"\s*(?::\s*(?P<rest>.*))?$", re.I)
_AUTHOR_EMAIL = re.compile(r"^(?:Author|Corresponding author|Contact)?\s*e-?mail\s*:\s*(\S+@\S+?)\.?$", re.I)
_LOOKS_LIKE_CITATION = re.compile(r"\((?:\d{4}[a-z]?|in press)\)", re.I)
_SLUG_LIMIT = 60


@dataclass
class ImportedArticle:
    month: str
    title: str
    citation: str
    doi: str | None
    summary: list[str] = field(default_factory=list)
    implications: list[str] = field(default_factory=list)
    contact_email: str | None = None
    line: int = 0

    @property
    def slug(self) -> str:
        """The title's letters and digits folded to ASCII (Flückiger -> fluckiger); "article" for a title
        with none (Greek, Chinese …), which `write_imported` numbers."""
        slug = slugify(self.title)
        if len(slug) > _SLUG_LIMIT:
            slug = slug[:_SLUG_LIMIT].rsplit("-", 1)[0]
        return slug or "article"


class ImportError_(ValueError):
    """The text does not have the blog page's shape: every problem found, as (line, what is wrong, how to fix it)."""

    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"line {line}: {what} — {fix}" for line, what, fix in problems))


def parse_blog_text(text: str) -> list[ImportedArticle]:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    articles: list[ImportedArticle] = []
    month: str | None = None
    current: ImportedArticle | None = None
    section = "none"  # title, citation, summary, implications
    problems: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        heading = _MONTH_HEADING.match(line)
        month_number = _month_number(heading.group(1)) if heading else None
        if heading and month_number:
            month = f"{int(heading.group(2)):04d}-{month_number:02d}"
            section = "title"
            continue
        if month is None:
            continue  # the page's preamble
        if section == "title" or (section == "implications" and _starts_new_article(lines, number)):
            current = ImportedArticle(month=month, title=line, citation="", doi=None, line=number)
            articles.append(current)
            section = "citation"
            continue
        assert current is not None
        if section == "citation":
            current.citation, current.doi = _split_citation(line)
            section = "summary"
        elif implications := _IMPLICATIONS_HEADING.match(line):
            if section == "implications":
                problems.append(
                    (
                        number,
                        f'a second practice-implications heading in "{current.title}"',
                        "keep one heading: merge the two sections, or check that the next article has a title and "
                        "a citation line",
                    )
                )
            section = "implications"
            if implications.group("rest"):
                current.implications.append(implications.group("rest"))
        elif (email := _AUTHOR_EMAIL.match(line)) and section == "implications":
            current.contact_email = email.group(1)
        elif section == "summary":
            current.summary.append(line)
        else:
            current.implications.append(line)
    for article in articles:
        if not article.citation:
            problems.append(
                (
                    article.line,
                    f'"{article.title}" has no citation line after its title',
                    "put the full reference, e.g. Author, A. (2018). Title. Journal, 1(2), 3-4., on the next line",
                )
            )
        elif not article.implications:
            problems.append(
                (
                    article.line,
                    f'"{article.title}" has no practice-implications section',
                    'add a line "Practice Implications" after the summary, followed by the implications',
                )
            )
    if problems:
        raise ImportError_(sorted(problems))
    return articles


def _month_number(word: str) -> int | None:
    """1–12 for a month's name or its abbreviation of three letters or more ("Sept"), else None."""
    key = word.lower()
    for number, name in enumerate(MONTH_NAMES, start=1):
        if name.lower().startswith(key) and len(key) >= 3:
            return number
    return None


def _starts_new_article(lines: list[str], number: int) -> bool:
    """Inside implications, a short line followed by a citation-like line begins another article of the same month."""
    line = lines[number - 1]
    following = next((next_line for next_line in lines[number:] if next_line), "")
    return (
        len(line) < 200
        and not line.endswith(".")
        and bool(_LOOKS_LIKE_CITATION.search(following))
        and not _AUTHOR_EMAIL.match(line)
    )


def _split_citation(line: str) -> tuple[str, str | None]:
    """The citation without its DOI, and the bare DOI: the DOI becomes a field of its own."""
    found = find_doi(line)
    if found is None:
        return line, None
    doi, written = found
    before, _, after = line.partition(written)
    head = before.rstrip(" ,;")
    # "3-4. https://doi.org/10.1000/abc." : the full stop after the DOI ends a sentence that already ended
    citation = head + (after.lstrip(".,;") if head.endswith(".") else after)
    if not citation.endswith("."):
        citation += "."
    return citation, doi


def suggest_topics(article: ImportedArticle, topics: list[Topic], most: int = 3) -> list[str]:
    """Topic slugs whose name words or aliases occur most often in the title and summary."""
    text = f" {normalize(article.title)} {normalize(article.title)} {normalize(' '.join(article.summary))} "
    scores: list[tuple[int, str]] = []
    for topic in topics:
        spellings = {normalize(s) for s in (topic.name, *topic.aliases)} - {""}
        hits = sum(text.count(f" {spelling} ") for spelling in spellings if len(spelling) >= 3)
        if hits:
            scores.append((hits, topic.slug))
    scores.sort(key=lambda pair: (-pair[0], pair[1]))
    return [slug for _, slug in scores[:most]]


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_article_file(article: ImportedArticle, topic_slugs: list[str]) -> str:
    front = [
        "+++",
        f"title = {_toml_string(article.title)}",
        "topics = [" + ", ".join(_toml_string(s) for s in topic_slugs) + "]",
        f"citation = {_toml_string(article.citation)}",
    ]
    if article.doi:
        front.append(f"doi = {_toml_string(article.doi)}")
    if article.contact_email:
        front.append(f"contact_email = {_toml_string(article.contact_email)}")
    front.append("+++")
    body = "\n\n".join(article.summary) + "\n\n## Practice Implications\n\n" + "\n\n".join(article.implications)
    return "\n".join(front) + "\n" + body + "\n"


HELD_AS_DRAFT = """\
# Written by `pprfeed import`: the issue stays out of the feeds and the chat posts until
# someone has reviewed each article's suggested topics. Then delete the next line.
draft = true
"""


def write_imported(
    articles: list[ImportedArticle], content_dir: Path, topics: list[Topic], force: bool = False
) -> list[Path]:
    """Write one content file per article, and hold each new issue back as a draft.

    Existing article files are kept unless `force`. A month folder without an issue.toml
    gets one saying `draft = true`, so a cron `publish` cannot post topics nobody reviewed.
    Returns every file written.
    """
    targets = _unique_paths(articles, content_dir)
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise FileExistsError(", ".join(str(p) for p in existing))
    written: list[Path] = []
    for article, path in zip(articles, targets, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        issue_file = path.parent / "issue.toml"
        if not issue_file.exists():
            issue_file.write_text(HELD_AS_DRAFT, encoding="utf-8")
            written.append(issue_file)
        path.write_text(render_article_file(article, suggest_topics(article, topics)), encoding="utf-8")
        written.append(path)
    return written


def _unique_paths(articles: list[ImportedArticle], content_dir: Path) -> list[Path]:
    """One file per article: two articles of a month with one slug get <slug>.md and <slug>-2.md."""
    taken: set[Path] = set()
    paths: list[Path] = []
    for article in articles:
        folder = content_dir / "issues" / article.month
        path, number = folder / f"{article.slug}.md", 1
        while path in taken:
            number += 1
            path = folder / f"{article.slug}-{number}.md"
        taken.add(path)
        paths.append(path)
    return paths
