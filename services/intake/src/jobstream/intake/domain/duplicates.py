"""Possible duplicates: an open request for the same site (and asset) that reads alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

# rapidfuzz's token-set ratio, 0..1: word order and repeated or extra words do not count
# against a match ("Boiler showing F28, no heating" vs "No heating; boiler fault F28"
# scores 0.89; "Leaking tap in kitchen" vs "Leaking tap in bathroom" 0.78; unrelated
# jobs score below 0.5). At 0.80 a callback about the same fault is flagged while a
# different fault in another room is not. Flagging only asks the office to look.
SIMILARITY_THRESHOLD = 0.80


@dataclass(frozen=True)
class OpenRequest:
    """What the duplicate check needs to know about an open request."""

    work_order_id: str
    site_id: str
    asset_id: str | None
    description: str


def similarity(a: str, b: str) -> float:
    """How alike two descriptions read, from 0 to 1 (case and punctuation ignored)."""
    return fuzz.token_set_ratio(a, b, processor=utils.default_process) / 100


def same_place(site_id: str, asset_id: str | None, other: OpenRequest) -> bool:
    """Same site, and the same asset when both name one."""
    if other.site_id != site_id:
        return False
    return asset_id is None or other.asset_id is None or other.asset_id == asset_id


def most_similar_open_request(
    site_id: str,
    asset_id: str | None,
    description: str,
    open_requests: Iterable[OpenRequest],
    threshold: float = SIMILARITY_THRESHOLD,
) -> tuple[OpenRequest, float] | None:
    """The open request at the same place that reads most like ``description``, if any.

    Only one that reaches ``threshold`` counts; ties go to the first given, i.e. the oldest.
    """
    best: tuple[OpenRequest, float] | None = None
    for other in open_requests:
        if not same_place(site_id, asset_id, other):
            continue
        score = round(similarity(description, other.description), 4)
        if score >= threshold and (best is None or score > best[1]):
            best = (other, score)
    return best
