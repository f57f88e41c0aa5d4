from pprfeed.query import MatchKind, QueryEngine


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
