"""Where a request's photos are kept, what they are called and what their bytes look like."""

import pytest

from jobstream.intake.domain.attachments import (
    looks_like,
    photo_filename,
    upload_key,
    uploader,
    uploads_of,
)
from jobstream.objectstore.base import check_key

SHA = "ab" * 32


def test_a_customers_photos_are_kept_under_their_id_and_the_offices_under_office():
    assert upload_key("cust-dd", SHA, "image/png") == f"intake/uploads/cust-dd/{SHA}.png"
    assert upload_key(None, SHA, "image/jpeg") == f"intake/uploads/office/{SHA}.jpg"
    assert uploads_of("cust-dd") == "intake/uploads/cust-dd/"
    assert uploads_of(None) == "intake/uploads/"


@pytest.mark.parametrize("customer_id", ["acme:north", "office", ".hidden"])
def test_an_id_a_key_cannot_hold_or_that_reads_as_the_office_is_named_by_its_digest(customer_id):
    segment = uploader(customer_id)
    assert segment.startswith("id-") and segment != uploader("other:id")
    check_key(upload_key(customer_id, SHA, "image/webp"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "photo.png"),
        ("", "photo.png"),
        ("IMG_0042.PNG", "IMG_0042.PNG"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\boiler (1).png", "boiler _1_.png"),
        ("...", "photo.png"),
        ("<script>.png", "script_.png"),
        ("x" * 300, "x" * 100),
    ],
)
def test_a_file_name_is_reduced_to_plain_characters(given, expected):
    assert photo_filename(given, "image/png") == expected


def test_the_bytes_must_start_as_the_type_says():
    png = b"\x89PNG\r\n\x1a\n" + b"rest"
    assert looks_like(png, "image/png")
    assert not looks_like(png, "image/jpeg")
    assert looks_like(b"\xff\xd8\xff\xe0rest", "image/jpeg")
    assert looks_like(b"RIFF\x1a\x00\x00\x00WEBPVP8L", "image/webp")
    assert not looks_like(b"RIFF\x1a\x00\x00\x00WAVE", "image/webp")
    assert not looks_like(png, "image/gif")
