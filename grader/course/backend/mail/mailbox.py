"""The backend's mailbox: every email the local backend "sends" lands here.

SNS email subscriptions (confirmation requests and notifications), SES (API and SMTP) and
verification emails all deliver through ``MAILBOX.deliver``. Students read it from a notebook
(``course.mailbox()``) or in a browser at ``/_course/mailbox``. Links in mails that point at the
backend (confirm, unsubscribe, verify) are real links to it.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs

from course.backend.core import clock
from course.backend.core.registry import Reply, json_reply, on_reset, page

LINK = re.compile(r"https?://[^\s<>\"')]+")


@dataclass
class Mail:
    """One delivered email."""

    id: str
    received: float
    source: str  # "sns", "ses", "smtp", "verification"
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def links(self) -> list[str]:
        """Every link in the text and HTML parts, once each, in order of appearance."""
        found = LINK.findall(self.text + " " + html.unescape(self.html))
        return list(dict.fromkeys(found))

    def to_json(self) -> dict[str, Any]:
        """The mail as the mailbox page's JSON gives it, links included."""
        return {**asdict(self), "links": self.links}


class Mailbox:
    """Thread-safe store of delivered mail, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[Mail] = []

    def deliver(
        self,
        *,
        source: str,
        sender: str,
        recipients: list[str],
        subject: str,
        text: str,
        html_body: str = "",
        headers: dict[str, str] | None = None,
    ) -> Mail:
        """Build a real RFC 5322 message from the parts and store it."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Message-ID"] = f"<{uuid.uuid4()}@course.local>"
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        if html_body:
            message.add_alternative(html_body, subtype="html")
        return self.deliver_raw(message.as_bytes(), sender, recipients, source)

    def deliver_raw(self, raw: bytes, sender: str, recipients: list[str], source: str) -> Mail:
        """Store a message given as raw RFC 5322 bytes (from SMTP or SendRawEmail)."""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        mail = Mail(
            id=str(uuid.uuid4()),
            received=clock.now(),
            source=source,
            sender=sender,
            recipients=list(recipients),
            subject=str(parsed.get("Subject", "")),
            text=text_part.get_content() if text_part is not None else "",
            html=html_part.get_content() if html_part is not None else "",
            headers={k: str(v) for k, v in parsed.items()},
            raw=raw.decode("utf-8", "replace"),
        )
        with self._lock:
            self._mails.append(mail)
        return mail

    def messages(self, to: str | None = None) -> list[Mail]:
        """Every mail, oldest first; with ``to``, only those to that address."""
        with self._lock:
            mails = list(self._mails)
        if to:
            mails = [m for m in mails if to.lower() in (r.lower() for r in m.recipients)]
        return mails

    def get(self, mail_id: str) -> Mail | None:
        """The mail with that id, if any."""
        return next((m for m in self.messages() if m.id == mail_id), None)

    def clear(self) -> None:
        """Forget every mail (backend reset)."""
        with self._lock:
            self._mails.clear()


MAILBOX = Mailbox()
on_reset(MAILBOX.clear)


@page("/_course/mailbox")
def mailbox_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The mailbox page (HTML), ``messages[?to=]`` and ``messages/<id>`` (JSON)."""
    path = environ.get("PATH_INFO", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    to = query.get("to", [None])[0]
    if path.rstrip("/") == "/_course/mailbox/messages":
        return json_reply(200, [m.to_json() for m in MAILBOX.messages(to)])
    if path.startswith("/_course/mailbox/messages/"):
        mail = MAILBOX.get(path.rsplit("/", 1)[-1])
        return (
            json_reply(200, mail.to_json())
            if mail
            else json_reply(404, {"error": "no such message"})
        )
    return Reply(
        200,
        _html_page(MAILBOX.messages(to)).encode(),
        [("Content-Type", "text/html; charset=utf-8")],
    )


def _html_page(mails: list[Mail]) -> str:
    def link(match: re.Match[str]) -> str:
        return f'<a href="{match[0]}">{match[0]}</a>'

    items = []
    for m in reversed(mails):
        body = LINK.sub(link, html.escape(m.text))
        items.append(
            f"<article><h2>{html.escape(m.subject)}</h2><p><b>From</b> {html.escape(m.sender)} "
            f"<b>To</b> {html.escape(', '.join(m.recipients))} <small>({m.source})</small></p>"
            f"<pre>{body}</pre></article>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Course mailbox</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;"
        "padding:0 1rem}article{border-bottom:1px solid #ccc}"
        # A confirmation link is one long word: let it wrap anywhere rather than run off.
        "pre{white-space:pre-wrap;overflow-wrap:anywhere}</style></head><body>"
        f"<h1>Course mailbox ({len(mails)})</h1>"
        f"{''.join(items) or '<p>No mail yet.</p>'}</body></html>"
    )
