"""Text helpers: folding, slugs, DOIs in every spelling the blog used, e-mail addresses, plurals, shortening."""

from __future__ import annotations

import sys

import pytest

from pprfeed.text import (
    EMAIL,
    did_you_mean,
    find_doi,
    fold,
    normalize,
    normalize_doi,
    plural,
    shorten,
    slugify,
    typo_matches,
)


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Flückiger") == fold("FLUCKIGER") == "fluckiger"


def test_fold_keeps_punctuation_and_spaces() -> None:
    assert fold("Ég, Ø!") == "eg, ø!"


def test_normalize_makes_each_run_of_punctuation_and_space_one_space() -> None:
    assert normalize("  Working-Alliance;  (CBT)  ") == "working alliance cbt"


def test_slugify_joins_words_with_single_hyphens() -> None:
    assert slugify(" Émotion -- Focused Therapy! ") == "emotion-focused-therapy"


# --- DOIs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "10.1037/pst0000172",
        "doi:10.1037/pst0000172",
        "DOI: 10.1037/pst0000172",
        "doi:  10.1037/pst0000172",
        "https://doi.org/10.1037/pst0000172",
        "http://doi.org/10.1037/pst0000172",
        "https://dx.doi.org/10.1037/pst0000172",
        "http://dx.doi.org/10.1037/pst0000172",
        "HTTPS://DX.DOI.ORG/10.1037/pst0000172",
        "  10.1037/pst0000172  ",
    ],
)
def test_normalize_doi_gives_the_bare_doi_for_every_spelling(written: str) -> None:
    assert normalize_doi(written) == "10.1037/pst0000172"


@pytest.mark.parametrize("ending", [".", ",", ";", ".,"])
def test_normalize_doi_drops_the_punctuation_that_ends_a_sentence(ending: str) -> None:
    assert normalize_doi(f"https://dx.doi.org/10.1000/abc.1{ending}") == "10.1000/abc.1"


def test_normalize_doi_keeps_dots_inside_the_suffix() -> None:
    assert normalize_doi("10.1000/a.b.c") == "10.1000/a.b.c"


@pytest.mark.parametrize("digits", ["1037", "10370", "103712345"])
def test_a_registrant_code_of_four_to_nine_digits_is_a_doi(digits: str) -> None:
    assert normalize_doi(f"10.{digits}/x") == f"10.{digits}/x"


@pytest.mark.parametrize(
    "not_a_doi",
    [
        "10.1/x",
        "10.12/x",
        "10.123/x",
        "10.1234567890/x",
        "10.1037/",
        "10.1037 /x",
        "10.1037/has space",
        "11.1037/x",
        "see 10.1037/x",
        "https://example.org/10.1037/x",
        "pst0000172",
        "",
    ],
)
def test_normalize_doi_refuses_what_is_not_a_doi(not_a_doi: str) -> None:
    assert normalize_doi(not_a_doi) is None


def test_find_doi_gives_the_bare_doi_and_the_text_it_was_written_as() -> None:
    line = "Author, A. (2018). Paper. Journal, 1(2), 3-4. https://dx.doi.org/10.1000/abc.1"
    assert find_doi(line) == ("10.1000/abc.1", "https://dx.doi.org/10.1000/abc.1")


@pytest.mark.parametrize(
    ("line", "written"),
    [
        ("Paper. doi:10.1111/jcpp.12767", "doi:10.1111/jcpp.12767"),
        ("Paper. DOI: 10.1002/cpp.2180", "DOI: 10.1002/cpp.2180"),
        ("Paper. Doi:10.1002/cpp.2180", "Doi:10.1002/cpp.2180"),
        ("Paper. http://doi.org/10.1002/cpp.2180", "http://doi.org/10.1002/cpp.2180"),
        ("Paper. HTTP://DX.DOI.ORG/10.1002/cpp.2180", "HTTP://DX.DOI.ORG/10.1002/cpp.2180"),
        ("Paper. 10.1002/cpp.2180", "10.1002/cpp.2180"),
    ],
)
def test_find_doi_takes_the_prefix_in_any_case_with_the_doi(line: str, written: str) -> None:
    found = find_doi(line)
    assert found is not None
    assert found[1] == written


@pytest.mark.parametrize("ending", [".", ",", ";", ".;"])
def test_find_doi_leaves_out_the_punctuation_after_a_doi(ending: str) -> None:
    assert find_doi(f"Journal, 1(2), 3-4. https://dx.doi.org/10.1000/abc.1{ending}") == (
        "10.1000/abc.1",
        "https://dx.doi.org/10.1000/abc.1",
    )


def test_find_doi_gives_the_first_of_two() -> None:
    assert find_doi("doi:10.1000/first and doi:10.2000/second") == ("10.1000/first", "doi:10.1000/first")


def test_find_doi_stops_at_white_space() -> None:
    assert find_doi("10.1000/abc\tmore") == ("10.1000/abc", "10.1000/abc")


def test_find_doi_needs_doi_as_a_word() -> None:
    assert find_doi("nodoi:10.1000/abc") == ("10.1000/abc", "10.1000/abc")


@pytest.mark.parametrize("text", ["A paper without one.", "10.12/x", "version 10.1000 of it"])
def test_find_doi_finds_nothing_without_a_doi(text: str) -> None:
    assert find_doi(text) is None


# --- e-mail -------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["someone@example.org", "a.b+c@mail.example.co.uk"])
def test_an_address_with_a_dotted_host_is_an_email(address: str) -> None:
    assert EMAIL.fullmatch(address)


@pytest.mark.parametrize(
    "not_an_address",
    ["someone@localhost", "someone@", "@example.org", "some one@example.org", "a@b@example.org", "<a@example.org>"],
)
def test_an_address_without_user_or_dotted_host_is_not_an_email(not_an_address: str) -> None:
    assert EMAIL.fullmatch(not_an_address) is None


# --- suggestions, plurals, shortening -------------------------------------------------


def test_did_you_mean_finds_the_closest_choice_ignoring_case_and_accents() -> None:
    assert did_you_mean("FLUKIGER", ["Wampold", "Flückiger"]) == "Flückiger"


def test_did_you_mean_gives_the_choice_as_it_was_spelled_first() -> None:
    assert did_you_mean("alliance", ["Alliance", "alliance!"]) == "Alliance"


def test_did_you_mean_gives_nothing_when_no_choice_is_close() -> None:
    assert did_you_mean("outcome", ["alliance", "dropout"]) is None


def test_did_you_mean_finds_a_typo_of_a_choice() -> None:
    assert did_you_mean("depresion", ["Depression", "Empathy"]) == "Depression"


def test_a_stricter_cutoff_refuses_a_looser_match() -> None:
    # "depresion" and "depression" are 0.95 alike
    assert did_you_mean("depresion", ["Depression"], cutoff=0.96) is None


def test_a_match_exactly_at_the_cutoff_is_suggested() -> None:
    # "abcd" and "abce" are 0.75 alike (difflib's ratio): the cutoff is the least accepted, as in difflib
    assert did_you_mean("abcd", ["abce"], cutoff=0.75) == "abce"


def test_several_words_found_in_order_in_a_long_choice_are_suggested_whatever_the_cutoff() -> None:
    # the whole strings are only 0.39 alike, but each word typed is a word of the choice, in order
    long_name = "Rupture and Repair of the Alliance in the Therapeutic Relationship"
    assert did_you_mean("rupture alliance", [long_name], cutoff=0.9) == long_name


def test_typo_matches_are_closest_first() -> None:
    assert typo_matches("depresion", ["Depressions", "Depression"]) == ["Depression", "Depressions"]


def test_typo_matches_keep_looking_after_an_exact_match() -> None:
    assert typo_matches("depression", ["Depression", "Depresion"]) == ["Depression", "Depresion"]


def test_typo_matches_skip_a_spelling_that_is_only_punctuation() -> None:
    assert typo_matches("depresion", ["!!", "Depression"]) == ["Depression"]


def test_typo_matches_of_a_short_word_look_past_a_spelling_that_is_not_close() -> None:
    assert typo_matches("ptds", ["abcd", "PTSD"]) == ["PTSD"]


def test_typo_matches_ignore_the_case_of_what_was_typed() -> None:
    assert typo_matches("DEPRESION", ["Depression"]) == ["Depression"]


def test_typo_matches_give_the_three_closest_unless_asked_for_more() -> None:
    spellings = ["Depression", "Depressions", "Depressio", "Depressionn"]
    assert len(typo_matches("depresion", spellings)) == 3
    assert len(typo_matches("depresion", spellings, most=4)) == 4


@pytest.mark.slow
def test_normalizing_normalized_text_changes_nothing_for_any_character() -> None:
    # the typo matcher relies on it: text passed as normalized already may be normalized again at no cost
    changed = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and normalize(once := normalize(f"a{chr(code)}b")) != once
    ]
    assert changed == []


def test_a_spelling_exactly_at_the_typo_ratio_is_a_typo() -> None:
    # 8 letters in common of 8 + 12: difflib's ratio is 0.8, the least a typo may have
    assert typo_matches("abcdefgh", ["abcdefghijkl"]) == ["abcdefghijkl"]


def test_a_word_that_is_no_typo_of_any_choice_gets_no_suggestion() -> None:
    # two letters of five changed is more than a typo, whatever the cutoff allows
    assert did_you_mean("abcde", ["abcxy"]) is None


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 articles"), (1, "1 article"), (2, "2 articles"), (-1, "-1 articles")]
)
def test_plural_adds_an_s_except_for_one(count: int, expected: str) -> None:
    assert plural(count, "article") == expected


def test_plural_takes_an_irregular_plural() -> None:
    assert plural(2, "entry", "entries") == "2 entries"


def test_plural_of_one_ignores_the_irregular_plural() -> None:
    assert plural(1, "entry", "entries") == "1 entry"


def test_shorten_keeps_text_that_fits_exactly() -> None:
    assert shorten("abc def", 7) == "abc def"


def test_shorten_cuts_at_the_last_word_that_fits_with_the_ellipsis() -> None:
    assert shorten("the working alliance matters", 20) == "the working…"


def test_shorten_cuts_after_a_word_that_ends_just_before_the_ellipsis() -> None:
    # room for 11 characters: "the working" fits exactly
    assert shorten("the working alliance", 12) == "the working…"


def test_shorten_drops_spaces_before_the_ellipsis() -> None:
    assert shorten("the  working   alliance", 16) == "the  working…"


def test_shorten_cuts_inside_one_enormous_word() -> None:
    assert shorten("a " + "x" * 30, 10) == "a xxxxxxx…"


def test_shorten_cuts_inside_a_word_that_fills_more_than_half_the_room() -> None:
    # the only space is at 3 of 8 characters of room, less than half: cut inside the word
    assert shorten("abc defghijklmnop", 9) == "abc defg…"


def test_shorten_cuts_at_a_space_exactly_half_way_inside_the_word() -> None:
    # room 8, the space at 4 is exactly half: still cut inside the word
    assert shorten("abcd efghijklmnop", 9) == "abcd efg…"


def test_shorten_cuts_at_a_space_past_half_way() -> None:
    assert shorten("abcde fghijklmnop", 9) == "abcde…"


def test_shorten_uses_the_ellipsis_it_is_given() -> None:
    assert shorten("the working alliance", 17, " [...]") == "the working [...]"


def test_shorten_to_less_than_the_ellipsis_gives_part_of_the_ellipsis() -> None:
    assert shorten("the working alliance", 2, "...") == ".."


def test_a_doi_may_end_in_a_capital_x() -> None:
    # ISSN-based suffixes end in a check digit, which may be X
    assert normalize_doi("doi:10.1016/0005-7967(94)9000X") == "10.1016/0005-7967(94)9000X"


def test_find_doi_keeps_a_final_capital_x() -> None:
    assert find_doi("Journal. https://doi.org/10.1016/0005-7967(94)9000X") == (
        "10.1016/0005-7967(94)9000X",
        "https://doi.org/10.1016/0005-7967(94)9000X",
    )


def test_shorten_to_one_more_than_the_ellipsis_keeps_one_character() -> None:
    assert shorten("abcdef", 2) == "a…"


def test_shorten_takes_a_space_right_at_the_end_of_the_room() -> None:
    # room 9; spaces at 6 and 9: the one at 9 keeps "abcdef gh" whole
    assert shorten("abcdef gh ijk", 10) == "abcdef gh…"
