"""Public URLs of the built site, shared by feeds, chat posts and bots so every link agrees."""

from __future__ import annotations

from pprfeed.config import SiteSettings
from pprfeed.model import Article


def article_url(article: Article, site: SiteSettings) -> str:
    """The blog's own permalink when the content gives one, else the page `pprfeed build` writes."""
    return article.permalink or f"{site.base_url}articles/{article.id}.html"


def topic_page_url(slug: str, site: SiteSettings) -> str:
    return f"{site.base_url}topics/{slug}.html"
