"""Public URLs of the built site, shared by feeds, chat posts and bots so every link agrees."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # model.Article.doi_url imports this module: nothing here may import the model at run time
    from pprfeed.config import SiteSettings
    from pprfeed.model import Article

DOI_RESOLVER = "https://doi.org/"
# The DOI Handbook (2.5.2.4) asks for %, ", #, space and ? to be encoded in a URL, and recommends <, >, {, }, ^,
# [, ], `, |, \ and +; non-ASCII is UTF-8. quote() encodes all of those; the rest of a DOI stays as written.
_DOI_KEPT = "/:;()@&=$,!*'-._~"


def doi_url(doi: str) -> str:
    """The doi.org link of a bare DOI, each character encoded once as the DOI Handbook asks."""
    return DOI_RESOLVER + quote(doi, safe=_DOI_KEPT)


def article_url(article: Article, site: SiteSettings) -> str:
    """The blog's own permalink when the content gives one, else the page `pprfeed build` writes."""
    return article.permalink or f"{site.base_url}articles/{article.id}.html"


def topic_page_url(slug: str, site: SiteSettings) -> str:
    return f"{site.base_url}topics/{slug}.html"
