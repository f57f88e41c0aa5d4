from __future__ import annotations

from html.parser import HTMLParser

from feedkit import NASTY_SUMMARY
from pprfeed.site.html import ALLOWED_TAGS, markdown_html, markdown_text, parse_markdown, plain_text

BASE = "https://feeds.example.org/pprnet/"


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


def test_html_and_text_of_the_same_tokens_equal_those_of_the_markdown() -> None:
    tokens = parse_markdown(NASTY_SUMMARY)
    assert markdown_html(tokens, BASE) == markdown_html(NASTY_SUMMARY, BASE)
    assert markdown_text(tokens) == markdown_text(NASTY_SUMMARY)


def test_paragraphs_of_plain_prose_become_paragraphs() -> None:
    assert markdown_html("One line\nand the next.\n\n  Second paragraph.", BASE) == (
        "<p>One line\nand the next.</p>\n<p>Second paragraph.</p>\n"
    )


def test_tags_rebuilt_by_stripping_are_stripped_too() -> None:
    assert plain_text("a <scr<script>ipt>alert(1)</scr</script>ipt> b") == "a alert(1) b"


def test_tags_spelled_as_entities_are_stripped() -> None:
    assert plain_text("a &lt;script&gt;alert(1)&lt;/script&gt; b") == "a alert(1) b"


def test_an_unclosed_tag_cannot_open() -> None:
    assert "<script" not in plain_text("a <script src=https://evil.example/x.js")


def test_plain_comparisons_survive_plain_text() -> None:
    assert plain_text("p < .05, d > 0.3 & AT&T") == "p < .05, d > 0.3 & AT&T"


def test_deeply_rebuilt_tags_cannot_open_either() -> None:
    assert "<s" not in plain_text("<s" * 5000 + ">" * 5000)
