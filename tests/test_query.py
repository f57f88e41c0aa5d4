import pytest

from pprfeed.archive.search import MatchKind, QueryEngine


def authors(result):
    return {a.citation.split(",")[0] for a in result.articles}


def test_alliance_finds_the_four_alliance_articles(archive):
    result = QueryEngine(archive).find("alliance")
    assert result.kind is MatchKind.TOPIC
    assert {"Norcross", "Flückiger", "Cameron", "Murphy"} <= authors(result)


def test_typo_resolves_to_closest_topic(archive):
    result = QueryEngine(archive).find("depresion")
    assert result.kind is MatchKind.TYPO
    assert result.topics[0].slug == "depression-and-depressive-symptoms"
    assert authors(result) == {"Cuijpers", "Cameron"}


def test_results_are_newest_first(archive):
    months = [a.month for a in QueryEngine(archive).find("alliance").articles]
    assert months == sorted(months, reverse=True)


# --- the acceptance queries, and the shape of the answers ------------------------------

ALLIANCE_AUTHORS = {"Norcross", "Flückiger", "Cameron", "Murphy"}


def test_alliance_is_exactly_the_four_alliance_articles(archive):
    result = QueryEngine(archive).find("alliance")
    assert result.topics[0].slug == "alliance-and-therapeutic-relationship"
    assert authors(result) == ALLIANCE_AUTHORS


def test_cbt_alias(archive):
    result = QueryEngine(archive).find("cbt")
    assert result.kind is MatchKind.TOPIC
    assert result.topics[0].slug == "cbt"
    assert authors(result) == {"Cameron"}


def test_blog_misspelling_adherance_resolves_to_adherence(archive):
    result = QueryEngine(archive).find("Adherance")
    assert result.kind is MatchKind.TOPIC
    assert result.topics[0].name == "Adherence"
    assert result.articles == ()  # no seed article is about adherence: an honest empty answer


def test_free_text_countertransference(archive):
    result = QueryEngine(archive).find("countertransference")
    assert result.kind is MatchKind.TOPIC  # "countertransference" is a word of a topic name
    assert result.topics[0].slug == "transference-and-countertransference"
    assert authors(result) == {"Norcross"}


def test_free_text_fallback_searches_titles_citations_and_summaries(archive):
    engine = QueryEngine(archive)
    assert authors(engine.find("adolescents")) == {"Murphy"}  # summary and title
    assert authors(engine.find("Yulish")) == {"Yulish"}  # citation
    result = engine.find("nondirective supportive")
    assert result.kind is MatchKind.TEXT and authors(result) == {"Cuijpers"}


@pytest.mark.parametrize("spelling", ["FLUCKIGER", "fluckiger", "Flückiger", "FLÜCKIGER"])
def test_accents_and_case_are_ignored(archive, spelling):
    result = QueryEngine(archive).find(spelling)
    assert authors(result) == {"Flückiger"}


@pytest.mark.parametrize(
    "typed", ["ALLIANCE", "Alliance and therapeutic relationship", "alliance-and-therapeutic-relationship"]
)
def test_name_slug_alias_case_insensitive(archive, typed):
    assert authors(QueryEngine(archive).find(typed)) == ALLIANCE_AUTHORS


def test_prefix(archive):
    result = QueryEngine(archive).find("allian")
    assert result.kind is MatchKind.PREFIX
    assert authors(result) == ALLIANCE_AUTHORS
    kind, shared = QueryEngine(archive).resolve("ATT")  # Attachment; Attendance, Attrition, and Drop-Out
    assert kind is MatchKind.PREFIX and len(shared) >= 2
    assert all(any(k.lower().startswith("att") for k in (t.name, t.slug, *t.aliases)) for t in shared)


def test_nothing_found_offers_suggestions(archive):
    result = QueryEngine(archive).find("xyzzyq")
    assert result.kind is MatchKind.NONE and result.articles == ()


def test_no_query_lists_every_topic_with_counts(archive):
    engine = QueryEngine(archive)
    assert engine.find("  ").kind is MatchKind.LIST
    listing = engine.topic_list()
    assert len(listing) == 36
    counts = dict((t.slug, n) for t, n in listing)
    assert counts["alliance-and-therapeutic-relationship"] == 4
    assert counts["adherence"] == 0


def test_autocomplete(archive):
    engine = QueryEngine(archive)
    assert engine.complete("alli")[0].slug == "alliance-and-therapeutic-relationship"
    assert len(engine.complete("", limit=5)) == 5


def test_very_long_query_is_cut(archive):
    result = QueryEngine(archive).find("alliance " * 1000)
    assert len(result.query) <= 200


def test_questions_in_plain_words_find_their_topic(archive) -> None:
    engine = QueryEngine(archive)
    result = engine.find("what works for anxiety?")
    assert result.kind is MatchKind.TOPIC and result.topics[0].slug == "anxiety-disorders"
    assert authors(result) == {"Yulish"}


def test_two_topics_mean_articles_tagged_with_both(archive) -> None:
    engine = QueryEngine(archive)
    for query in ("cbt depression", "CBT for depression"):
        result = engine.find(query)
        assert result.kind is MatchKind.TOPIC, query
        assert {t.slug for t in result.topics} == {"cbt", "depression-and-depressive-symptoms"}
        assert authors(result) == {"Cameron"}


def test_a_doi_in_any_spelling_finds_its_article(archive) -> None:
    engine = QueryEngine(archive)
    for query in ("10.1037/pst0000172", "https://doi.org/10.1037/PST0000172", "doi:10.1037/pst0000172"):
        assert authors(engine.find(query)) == {"Flückiger"}, query


def test_alias_words_do_not_stand_for_their_topic(archive) -> None:
    # "ending therapy" is an alias of Termination: "therapy" alone must not mean Termination
    result = QueryEngine(archive).find("therapy")
    assert "termination" not in {t.slug for t in result.topics}


def test_one_letter_is_no_prefix_of_everything(archive) -> None:
    result = QueryEngine(archive).find("t")
    assert len(result.articles) < len(archive.articles)


def test_when_no_article_has_every_word_most_words_come_first(archive) -> None:
    result = QueryEngine(archive).find("adolescents zzzunknownword")
    assert result.kind is MatchKind.TEXT and authors(result) >= {"Murphy"}
    ranked = QueryEngine(archive).find("adolescents meta zzzunknownword")
    assert ranked.articles[0].citation.startswith("Murphy")  # matches two of the three words
