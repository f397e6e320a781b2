"""The kit's reviewer of SES production-access requests: the four questions of the course notes.

AWS reviews a request to leave the SES sandbox (SESv2 ``PutAccountDetails`` with
``ProductionAccessEnabled``) by hand and asks, among other things, how the sender builds its
list, what it sends, how recipients opt out and how bounces and complaints are handled
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html). The course notes
(Lab 6) list the same four questions. The local backend decides by them: a request whose use
case description answers all four is granted; one that does not is denied, with the missing
answers as the reason, the way a reviewer would write back.

Pure functions, no backend state: the backend (``ext.ses_account``) and the lab 09 check
(``checks.lab09``) share this one definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAIL_TYPES = ("MARKETING", "TRANSACTIONAL")
CONTACT_LANGUAGES = ("EN", "JA")
URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.I)


@dataclass(frozen=True)
class Question:
    """One thing a reviewer needs the use case description to answer."""

    key: str
    question: str
    patterns: tuple[str, ...]
    missing: str
    all_of: bool = False  # every pattern must match (else any one)

    def answered_by(self, text: str) -> bool:
        found = [re.search(p, text, re.I) is not None for p in self.patterns]
        return all(found) if self.all_of else any(found)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "recipients",
        "Where do your recipients' addresses come from?",
        (
            r"sign(?:s|ed)?[\s-]?up",
            r"regist(?:er|ers|ered|ering|ration)",
            r"opt(?:s|ed)?[\s-]?in",
            r"\bsubscrib(?:e|es|ed|ers?)\b",
            r"\bconsent",
            r"\b(?:customers?|users?|members?) who\b",
            r"account holders?",
            r"double opt",
        ),
        "how you build your recipient list: where the addresses come from and whether "
        "the recipients asked for your mail (for example, people who sign up and confirm "
        "their address)",
    ),
    Question(
        "content",
        "What mail do you send?",
        (
            r"transactional",
            r"marketing",
            r"newsletters?",
            r"password[\s-]?resets?",
            r"receipts?",
            r"order (?:confirmations?|updates?)",
            r"notifications?",
            r"invoices?",
            r"welcome (?:e-?mails?|messages?)",
            r"promotion(?:s|al)?",
        ),
        "what you send: the kind of messages (transactional such as password resets and "
        "receipts, or marketing such as newsletters)",
    ),
    Question(
        "unsubscribe",
        "How can recipients unsubscribe?",
        (
            r"unsubscri",
            r"opt(?:s|ed)?[\s-]?out",
            r"list-unsubscribe",
            r"preference (?:centre|center|page)",
            r"stop receiving",
        ),
        "how recipients stop your mail: an unsubscribe link or header, and how you honour it",
    ),
    Question(
        "feedback",
        "How do you handle bounces and complaints?",
        (r"bounce", r"complain"),
        "how you handle bounces and complaints (for example, SNS notifications that remove "
        "the address from your list, and the SES suppression list)",
        all_of=True,
    ),
)


@dataclass(frozen=True)
class Review:
    """The outcome of reviewing one request."""

    granted: bool
    missing: tuple[Question, ...]
    problems: tuple[str, ...]  # problems outside the four questions (URL, flag)

    @property
    def reasons(self) -> list[str]:
        """Every reason the request is denied, as sentences a sender can act on."""
        out = list(self.problems)
        out += [f"Your request does not describe {q.missing}." for q in self.missing]
        return out


def review(request: dict[str, object]) -> Review:
    """Review a PutAccountDetails request (boto3's parameter names)."""
    description = str(request.get("UseCaseDescription") or "")
    problems = []
    if not URL.match(str(request.get("WebsiteURL") or "")):
        problems.append("Your request needs the address (http or https URL) of your website.")
    if request.get("ProductionAccessEnabled") is not True:
        problems.append("ProductionAccessEnabled is not true: no production access was requested.")
    missing = tuple(q for q in QUESTIONS if not q.answered_by(description))
    return Review(granted=not problems and not missing, missing=missing, problems=tuple(problems))
