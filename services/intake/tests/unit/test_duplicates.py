"""Possible duplicates: same place, similar words."""

from jobstream.intake.domain.duplicates import (
    SIMILARITY_THRESHOLD,
    OpenRequest,
    most_similar_open_request,
    similarity,
)

BOILER = OpenRequest("wo-1", "s1", "boiler-1", "No heating or hot water; boiler shows fault F28")


def test_the_same_fault_in_other_words_is_similar():
    assert (
        similarity("Boiler showing F28, no heating or hot water", BOILER.description)
        >= SIMILARITY_THRESHOLD
    )


def test_a_different_job_at_the_same_site_is_not():
    assert similarity("Socket sparking in the kitchen", BOILER.description) < SIMILARITY_THRESHOLD


def test_a_similar_request_at_the_same_site_is_found():
    found = most_similar_open_request(
        "s1", None, "Boiler F28 again, no heating or hot water", [BOILER]
    )
    assert found is not None
    assert found[0] is BOILER


def test_another_site_is_never_a_duplicate():
    assert most_similar_open_request("s2", None, BOILER.description, [BOILER]) is None


def test_another_asset_at_the_same_site_is_never_a_duplicate():
    assert most_similar_open_request("s1", "boiler-2", BOILER.description, [BOILER]) is None


def test_the_most_similar_of_several_wins():
    close = OpenRequest("wo-2", "s1", None, "No heating or hot water, boiler fault F28 showing")
    far = OpenRequest("wo-3", "s1", None, "No hot water in the kitchen")
    found = most_similar_open_request(
        "s1", None, "No heating or hot water; boiler fault F28", [far, close]
    )
    assert found is not None
    assert found[0] is close
