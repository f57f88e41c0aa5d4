"""The query engine on the real archive: topics, typos, ranked words, and the questions practice teams ask."""

import pytest

from conftest import CONTENT
from pprfeed.archive.search import MatchKind, QueryEngine, explain
from pprfeed.archive.synonyms import load_synonyms

MURPHY = "2017-10-therapeutic-alliance-in-the-treatment-of-adolescents"
YULISH = "2018-01-the-importance-of-focusing-on-problems-in-psychotherapy"
CAMERON = "2018-03-therapeutic-alliance-predicts-client-outcomes-in-cbt"
CUIJPERS = "2018-07-do-common-factors-matter-in-psychotherapy"
FLUCKIGER = "2018-08-how-reliable-is-the-association-between-therapeutic"
NORCROSS = "2018-11-psychotherapy-relationships-that-work-becoming-an-evidence"


@pytest.fixture(scope="module")
def engine(archive):
    """As `pprfeed topic` and the bots build it: with content/synonyms.toml."""
    return QueryEngine(archive, load_synonyms(CONTENT))


def authors(result):
    return {a.citation.split(",")[0] for a in result.articles}


def ids(result):
    return [a.id for a in result.articles]


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
    result = QueryEngine(archive).find("alliance")
    months = [a.month for a in result.articles]
    assert months == sorted(months, reverse=True) and result.order == "newest"


# --- the acceptance queries of the first issues, and the shape of the answers -------------------

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
    assert result.kind is MatchKind.TOPIC  # an alias of Transference and Countertransference
    assert result.topics[0].slug == "transference-and-countertransference"
    assert authors(result) == {"Norcross"}


def test_words_are_found_in_titles_citations_and_summaries_by_relevance(archive):
    engine = QueryEngine(archive)
    result = engine.find("adolescents")  # title and summary of Murphy; "adolescent psychotherapy" in Norcross
    assert result.kind is MatchKind.TEXT and result.order == "relevance"
    assert ids(result) == [MURPHY, NORCROSS]
    assert authors(engine.find("Yulish")) == {"Yulish"}  # citation
    result = engine.find("nondirective supportive")
    assert result.kind is MatchKind.TEXT and authors(result) == {"Cuijpers"}


def test_words_are_stemmed(archive):
    engine = QueryEngine(archive)
    assert set(ids(engine.find("rupture repair"))) == set(ids(engine.find("ruptures repairing")))
    assert MURPHY in ids(engine.find("adolescent"))  # the summary says "adolescents"


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


def test_two_topics_list_articles_tagged_with_both_first_then_either(archive) -> None:
    engine = QueryEngine(archive)
    for query in ("cbt depression", "CBT for depression"):
        result = engine.find(query)
        assert result.kind is MatchKind.TOPIC, query
        assert {t.slug for t in result.topics} == {"cbt", "depression-and-depressive-symptoms"}
        assert ids(result) == [CAMERON, CUIJPERS]  # Cameron has both topics, Cuijpers only Depression


def test_a_doi_in_any_spelling_finds_its_article(archive) -> None:
    engine = QueryEngine(archive)
    for query in ("10.1037/pst0000172", "https://doi.org/10.1037/PST0000172", "doi:10.1037/pst0000172"):
        assert authors(engine.find(query)) == {"Flückiger"}, query
    assert engine.find("10.9999/not-in-the-archive").kind is MatchKind.NONE


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


def test_an_unfinished_last_word_is_a_prefix(archive) -> None:
    result = QueryEngine(archive).find("alliance rupt")
    assert set(ids(result)) == {NORCROSS, CAMERON, FLUCKIGER, CUIJPERS} and result.suggestions == ()


# --- questions that once went wrong: topics swallowing words, date order, bad suggestions ---


def test_a_topic_does_not_swallow_the_question(engine) -> None:
    """ "alliance ruptures": the Alliance articles that mention ruptures, then the others that do."""
    result = engine.find("alliance ruptures")
    assert result.kind is MatchKind.TEXT and result.order == "relevance"
    assert [t.slug for t in result.boosted] == ["alliance-and-therapeutic-relationship"]
    assert set(ids(result)[:3]) == {NORCROSS, FLUCKIGER, CAMERON}  # tagged Alliance, mention ruptures
    assert ids(result)[3:] == [CUIJPERS]  # July 2018: about repairing alliance ruptures, not tagged Alliance
    assert MURPHY not in ids(result)  # October 2017: tagged Alliance, never mentions ruptures
    assert result.searched == ("ruptures",) and result.suggestions == ()


def test_text_hits_are_ordered_by_relevance_not_date(engine) -> None:
    result = engine.find("anxiety treatment")
    assert ids(result)[0] == YULISH  # the meta-analysis of anxiety treatments, January 2018
    assert ids(result).index(YULISH) < ids(result).index(FLUCKIGER)  # not the alliance one of August 2018


@pytest.mark.parametrize("surname", ["Norcross", "Cuijpers", "Yulish", "Wampold", "Hutton", "Dagnan"])
def test_an_authors_surname_finds_their_articles_and_suggests_no_topic(engine, surname) -> None:
    result = engine.find(surname)
    assert result.kind is MatchKind.TEXT and result.suggestions == ()
    assert all(surname in a.citation for a in result.articles)
    assert result.articles


def test_a_year_in_a_citation_is_searchable(engine) -> None:
    assert ids(engine.find("Cuijpers 2012")) == [CUIJPERS]
    assert ids(engine.find("Murphy 2017")) == [MURPHY]


def test_homework_finds_the_article_that_mentions_it_and_suggests_nothing(engine) -> None:
    result = engine.find("homework")
    assert ids(result) == [CAMERON] and result.suggestions == ()  # not "Practice-Based Research"


@pytest.mark.parametrize("nonsense", ["xyzzyq", "qqqqzzzz", "zebrafish", "blorptang"])
def test_a_nonsense_word_finds_nothing_and_suggests_nothing(engine, nonsense) -> None:
    result = engine.find(nonsense)
    assert result.kind is MatchKind.NONE and result.articles == () and result.suggestions == ()
    assert result.searched == (nonsense,)  # what was searched, for the "nothing found" message


def test_nothing_found_says_what_was_searched(engine) -> None:
    result = engine.find("what about xyzzyq?")
    assert result.kind is MatchKind.NONE and result.searched == ("xyzzyq",)
    explained = explain(result, len(engine.articles))
    assert "“xyzzyq”" in explained and "topic names and aliases" in explained and "6 articles" in explained


def test_substance_use_finds_the_articles_that_mention_it(engine) -> None:
    result = engine.find("substance use")
    assert set(ids(result)[:2]) == {MURPHY, FLUCKIGER} and result.suggestions == ()  # not "Resistance"


@pytest.mark.parametrize("word", ["youth", "teens", "teenagers", "Teenager", "young people", "adolescence"])
def test_peoples_words_for_a_population_are_understood(engine, word) -> None:
    result = engine.find(word)
    assert result.kind is MatchKind.TEXT and ids(result)[0] == MURPHY  # the summary about adolescents
    assert "adolescents" in result.searched[0]


def test_without_synonyms_youth_finds_nothing(archive) -> None:
    assert QueryEngine(archive).find("teenagers").kind is MatchKind.NONE


def test_did_you_mean_only_for_a_word_close_to_a_topic_and_matching_nothing(engine) -> None:
    # a typo of a topic's spelling that no article has is read as that topic
    result = engine.find("adolescents tramua")
    assert [t.slug for t in result.boosted] == ["trauma-and-or-ptsd"]
    result = engine.find("alliance placbo")
    assert result.kind is MatchKind.TYPO and {t.slug for t in result.topics} == {
        "alliance-and-therapeutic-relationship",
        "placebo-effect",
    }
    assert engine.find("resistence").kind is MatchKind.TYPO
    # a typo of a word of a topic's name, in no article: suggested, alone or beside the other words' answer
    assert [t.slug for t in engine.find("frequncy").suggestions] == ["treatment-length-and-frequency"]
    result = engine.find("adolescents frequncy")
    assert ids(result)[0] == MURPHY and [t.slug for t in result.suggestions] == ["treatment-length-and-frequency"]
    # words that matched articles never get a suggestion, even when close to a topic's spelling
    for query in ("substance", "homework", "medications", "adolescents", "Norcross"):
        assert engine.find(query).suggestions == (), query


def test_a_typo_of_a_topic_in_a_longer_query(engine) -> None:
    result = engine.find("cbt for depresion")
    assert result.kind is MatchKind.TYPO and ids(result) == [CAMERON, CUIJPERS]
    assert engine.find("depresive symptoms").kind is MatchKind.TYPO


def test_a_typo_of_a_word_of_the_articles_is_read_as_that_word(engine) -> None:
    assert ids(engine.find("Flukiger")) == [FLUCKIGER]
    assert engine.find("Flukiger").searched == ("flukiger (Flückiger)",)
    assert ids(engine.find("homwork")) == [CAMERON]


def test_synonyms_of_topics_are_the_topic(engine) -> None:
    result = engine.find("low mood")
    assert result.kind is MatchKind.TOPIC and result.topics[0].slug == "depression-and-depressive-symptoms"


def test_fts_syntax_typed_is_only_words(engine) -> None:
    for query in (
        '"',
        '"alliance',
        "alliance*",
        "*",
        "NEAR(alliance ruptures)",
        "alliance NOT ruptures",
        "alliance OR",
        "AND",
        "-alliance",
        "title:alliance",
        "{title}: alliance",
        "alliance^",
        "(alliance",
        "alliance)",
        "'; DROP TABLE articles; --",
        "\x00",
        "ruptures + repair",
    ):
        engine.find(query)  # never an error
    assert ids(engine.find("alliance NOT ruptures")) == ids(engine.find("alliance not ruptures"))
    assert MURPHY not in ids(engine.find("alliance -ruptures"))  # "-" is no NOT: ruptures is a word to find
    assert ids(engine.find("title:ruptures")) == ids(engine.find("title ruptures"))
    assert ids(engine.find("NEAR(alliance ruptures)")) == ids(engine.find("near alliance ruptures"))
