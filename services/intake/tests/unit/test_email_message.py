"""Reading inbound MIME messages, and where they are routed."""

from email.message import EmailMessage

import pytest

from jobstream.intake.domain.email_message import EmailError, parse_email, route, safe_filename


def message(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.get("sender", "Priya Shah <Priya@DeansgateDental.example>")
    msg["To"] = "service@jobstream.example"
    msg["Subject"] = "Boiler fault again"
    if "message_id" in headers:
        msg["Message-ID"] = headers["message_id"]
    msg.set_content("The boiler shows F28 again.\nPhoto attached.")
    return msg


def test_a_message_with_an_attachment():
    msg = message(message_id="<abc@mail.example>")
    msg.add_attachment(
        b"\xff\xd8jpeg", maintype="image", subtype="jpeg", filename="../boiler photo.jpg"
    )
    parsed = parse_email(msg.as_bytes())
    assert parsed.sender == "priya@deansgatedental.example"
    assert parsed.sender_name == "Priya Shah"
    assert parsed.message_id == "<abc@mail.example>"
    assert "F28" in parsed.description
    (attachment,) = parsed.attachments
    assert attachment.data == b"\xff\xd8jpeg"
    assert attachment.content_type == "image/jpeg"
    assert attachment.safe_name == "01-boiler_photo.jpg"


def test_the_same_message_has_the_same_identity():
    raw = message(message_id="<abc@mail.example>").as_bytes()
    assert parse_email(raw).email_id == parse_email(raw).email_id


def test_a_message_without_message_id_is_identified_by_its_bytes():
    first = parse_email(message().as_bytes())
    assert first.message_id.startswith("<sha256:")
    assert first.email_id == parse_email(message().as_bytes()).email_id


def test_an_html_only_message_becomes_text():
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg["Subject"] = "Leak"
    msg.set_content("<p>Water <b>everywhere</b></p><script>x()</script>", subtype="html")
    assert parse_email(msg.as_bytes()).body == "Water everywhere"


def test_no_sender_is_refused():
    with pytest.raises(EmailError, match="From"):
        parse_email(b"Subject: hello\r\n\r\nbody")


@pytest.mark.parametrize("name", ["..", ".", "/etc/passwd", "a\\b", "", "ünïcode.pdf"])
def test_safe_filenames_stay_inside_the_key(name):
    safe = safe_filename(name)
    assert safe and safe not in (".", "..") and "/" not in safe and "\\" not in safe


def test_routing():
    one_site = {"c1": ["s1"]}
    assert route([], one_site).triage_reason == "sender matches no customer"
    match = {"customer_id": "c1", "site_id": None, "contact_id": "ct1"}
    assert route([match], one_site).site_id == "s1"
    assert route([match], {"c1": ["s1", "s2"]}).triage_reason is not None
    assert route([match | {"site_id": "s2"}], {"c1": ["s1", "s2"]}).site_id == "s2"
    other = {"customer_id": "c2", "site_id": None, "contact_id": None}
    assert "several customers" in (route([match, other], one_site).triage_reason or "")
