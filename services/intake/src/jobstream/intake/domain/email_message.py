"""Reading an inbound RFC 822 / MIME message with the standard library (policy.default)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from jobstream.ids import derived_id

MAX_DESCRIPTION = 5000


class EmailError(ValueError):
    """The message cannot become a request (no sender, not a message at all)."""


@dataclass(frozen=True)
class EmailAttachment:
    """One attached file, with a name safe to use in an object key."""

    filename: str
    safe_name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundEmail:
    """What intake takes from a message."""

    email_id: str
    message_id: str
    sender: str
    sender_name: str
    subject: str
    body: str
    sent_at: str | None
    attachments: tuple[EmailAttachment, ...]

    @property
    def description(self) -> str:
        """The request's description: subject, then the text."""
        text = f"{self.subject}\n\n{self.body}".strip() if self.body else self.subject
        return (text or "(empty email)")[:MAX_DESCRIPTION]


def parse_email(raw: bytes) -> InboundEmail:
    """Parse ``raw``; the identity is its Message-ID, or a digest of the bytes without one."""
    if not raw.strip():
        raise EmailError("the message is empty")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = [addr for _name, addr in getaddresses([str(message.get("From", ""))]) if "@" in addr]
    if not senders:
        raise EmailError("the message has no From address")
    sender_name = next((name for name, _ in getaddresses([str(message["From"])]) if name), "")
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        message_id = f"<sha256:{hashlib.sha256(raw).hexdigest()}>"
    attachments = tuple(
        _attachment(index, part) for index, part in enumerate(message.iter_attachments(), 1)
    )
    return InboundEmail(
        email_id=f"em-{derived_id('email', message_id)}",
        message_id=message_id[:500],
        sender=senders[0].lower(),
        sender_name=sender_name[:200],
        subject=str(message.get("Subject", "")).strip()[:500],
        body=_text_of(message),
        sent_at=_date_of(message),
        attachments=attachments,
    )


def _date_of(message: EmailMessage) -> str | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).isoformat()
    except (TypeError, ValueError):
        return None


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    assert isinstance(body, EmailMessage)
    content = body.get_content()
    text = content if isinstance(content, str) else content.decode(errors="replace")
    if body.get_content_subtype() == "html":
        text = _html_to_text(text)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines)[:MAX_DESCRIPTION]


def _attachment(index: int, part: EmailMessage) -> EmailAttachment:
    filename = part.get_filename() or f"attachment-{index}"
    content = part.get_content()
    data = content.encode() if isinstance(content, str) else bytes(content)
    return EmailAttachment(
        filename=filename[:255],
        safe_name=f"{index:02d}-{safe_filename(filename)}",
        content_type=part.get_content_type(),
        data=data,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A name for an object key: letters, digits, dot, dash, underscore; never '.' or '..'."""
    cleaned = _UNSAFE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
    return (cleaned or "file")[:100]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(extractor.parts))


@dataclass(frozen=True)
class Route:
    """Where an email goes: a customer's site, or the triage queue with the reason."""

    customer_id: str | None = None
    site_id: str | None = None
    contact_id: str | None = None
    triage_reason: str | None = None


def route(matches: Sequence[dict[str, Any]], sites_by_customer: dict[str, list[str]]) -> Route:
    """Decide from who the sender is (pure). ``matches``: contacts and billing addresses."""
    customers = sorted({m["customer_id"] for m in matches})
    if not customers:
        return Route(triage_reason="sender matches no customer")
    if len(customers) > 1:
        return Route(triage_reason=f"sender matches several customers: {', '.join(customers)}")
    customer = customers[0]
    contact = next((m["contact_id"] for m in matches if m["contact_id"]), None)
    tied = sorted({m["site_id"] for m in matches if m["site_id"]})
    if len(tied) == 1:
        return Route(customer, tied[0], contact)
    known = sites_by_customer.get(customer, [])
    if len(known) == 1:
        return Route(customer, known[0], contact)
    if not known:
        return Route(customer, contact_id=contact, triage_reason="the customer has no site yet")
    return Route(
        customer, contact_id=contact, triage_reason="the customer has several sites; choose one"
    )
