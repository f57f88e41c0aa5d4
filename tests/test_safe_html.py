from __future__ import annotations

import random
import sys
from html.parser import HTMLParser
from pathlib import Path

from feedkit import NASTY_SUMMARY
from pprfeed.model import Archive
from pprfeed.site.html import (
    ALLOWED_TAGS,
    _parser,
    _render_blocks,
    is_plain_prose,
    markdown_html,
    markdown_text,
    plain_paragraphs_html,
)

BASE = "https://feeds.example.org/pprnet/"
PROSE_WORDS = "alliance outcome therapy effect (g = .57) 18% – client’s, meta-analysis: yes; no? well."


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls.extend(value or "" for name, value in attrs if name in ("href", "src"))


def collect(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def test_only_allowed_tags_come_out_of_hostile_markdown() -> None:
    html = markdown_html(NASTY_SUMMARY, BASE)
    found = collect(html)
    assert set(found.tags) <= ALLOWED_TAGS, found.tags
    assert "script" not in found.tags and "img" not in found.tags and "iframe" not in found.tags
    assert "&lt;script&gt;" in html  # escaped, shown as text, never run
    assert "javascript:" not in " ".join(found.urls)


def test_links_become_absolute_and_only_safe_schemes_survive() -> None:
    html = markdown_html(
        "[a](../guide.html) [b](/root.html) [c](https://x.org/y) [d](mailto:e@x.org) [e](data:x)", BASE
    )
    assert collect(html).urls == [
        "https://feeds.example.org/guide.html",
        "https://feeds.example.org/root.html",
        "https://x.org/y",
        "mailto:e@x.org",
    ]


def test_headings_are_kept_within_h2_to_h4() -> None:
    html = markdown_html("# one\n\n## two\n\n##### five", BASE)
    assert collect(html).tags == ["h2", "h2", "h4"]


def test_plain_text_has_no_markup_and_no_tag_like_text() -> None:
    text = markdown_text(NASTY_SUMMARY)
    assert "<script" not in text and "<img" not in text and "<iframe" not in text and "*" not in text
    assert "Therapists" in text and "read this and that" in text
    assert markdown_text("p < .05 and d > 0.3") == "p < .05 and d > 0.3"


def prose_samples(archive: Archive) -> list[str]:
    rng = random.Random(7)
    words = PROSE_WORDS.split(" ")
    samples = [text for article in archive.articles for text in (article.summary_md, article.implications_md)]
    for _ in range(400):
        paragraphs = [
            "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        ]
        samples.append(("\n\n" if rng.random() < 0.5 else "\n  \n").join(paragraphs))
    return samples


def test_the_prose_fast_path_renders_exactly_what_markdown_it_renders(archive: Archive) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import synthetic

    rng = random.Random(3)
    samples = prose_samples(archive) + [synthetic.paragraph(rng, 400) + "\n\n" + synthetic.paragraph(rng, 300)]
    fast = 0
    for sample in samples:
        slow = _render_blocks(_parser().parse(sample), BASE)
        if is_plain_prose(sample):
            fast += 1
            assert plain_paragraphs_html(sample) == slow, sample
        assert markdown_html(sample, BASE) == slow
    assert fast > 100  # the fast path is really exercised


def test_markdown_syntax_is_never_taken_for_prose() -> None:
    for sample in ("1. one", "- item", "# heading", "> quote", "a *b*", "    code", "line  \nbreak", "x\n===", "a & b"):
        assert not is_plain_prose(sample), sample
