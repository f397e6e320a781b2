"""The kit's reviewer of SES production-access requests: four answers, judged as answers.

AWS reviews a request to leave the SES sandbox (SESv2 ``PutAccountDetails`` with
``ProductionAccessEnabled``) by hand. It wants to know how the sender will "only send to
recipients who have specifically requested your mail", what it sends, and how it handles
bounces, complaints and unsubscribe requests
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html; the API's
``UseCaseDescription`` is "a description of the types of email that you plan to send",
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html; the API now
requires only ``MailType`` and ``WebsiteURL`` and marks the description "optional and
deprecated", but the reviewers' questions stay, so a request without it is denied with each
question to answer). The course
notes (Lab 6) ask the same four questions: how the list is built, what mail is sent, how
recipients opt out, how bounces and complaints are handled.

The reviewer reads the description the way a person would, not by keyword:

- it cuts the description into answers: sentences, clauses after ``;``, lines, bullets and
  numbered items, and labelled answers (``List: ...``, ``Bounces and complaints: ...``; labels
  are welcome, not required);
- a copied question ("How do you handle bounces?") answers nothing, and neither does an answer
  without substance: it must read as English (a few words with at least one of the small words
  a sentence has: we, the, to, who, via...), not a bare list of keywords;
- an answer answers a question when it names the topic *and* a concrete practice, in any of
  many phrasings (sign up, tick a box, create an account, double opt-in; receipts, shipping
  emails, newsletters; an unsubscribe link, a preference centre, List-Unsubscribe; SNS
  notifications, removing the address, the suppression list...);
- both mail types are understood (``MailType``): a TRANSACTIONAL sender's list may be its
  customers (an account or an order is the relationship the mail belongs to); a MARKETING
  sender must say that recipients asked for its mail (opt-in, subscribe, a ticked box, consent).
  A bought, rented or scraped list is never acceptable (AWS's acceptable use policy).

A request whose description answers all four is granted; otherwise it is denied, with a reason
per missing answer and an example of a labelled answer, the way a reviewer would write back.

Pure functions, no backend state: the backend (``backend.ses.account``) and the lab 09 check
(``checks.labs.lab09``) share this one definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

MAIL_TYPES = ("MARKETING", "TRANSACTIONAL")
CONTACT_LANGUAGES = ("EN", "JA")
URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.I)

# The small words every English sentence has and a keyword list does not.
FUNCTION_WORDS = frozenset(
    re.findall(
        r"\S+",
        """a an the we our us i my they them their he she his her it its you your who whom whose
    which that this these those is are was were be been being am has have had do does did can
    will would shall should may must to from in on at by with via through for of into onto
    upon within after before once when whenever if as and or but so then than each every all
    any both only also no not never none there here where how what per out up off about
    until unless while immediately automatically""",
    )
)
WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", re.I)
# A label before a colon: "List:", "Bounces and complaints:", "3) Opt-out:" (a few words).
LABEL = re.compile(r"^\s*([A-Za-z][\w /&'’()-]{0,40}?)\s*[:–—]\s+(?=\S)")
BULLET = re.compile(r"^\s*(?:[-*•·‣▪]|\(?\d{1,2}[.)]|\(?[a-dA-D][.)])\s+")
QUESTION_START = re.compile(
    r"^\s*(?:how|what|where|who|which|why|when|do|does|did|can|will|are|is)\b[^:]*\byou(?:r)?\b",
    re.I,
)


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


# Where the list comes from: people who asked for the mail (any mail type).
CONSENT = _any(
    r"\bsign(?:s|ed|ing)?[\s-]?ups?\b",
    r"\bopt(?:s|ed|ing)?[\s-]?in\b",
    r"\bdouble[\s-]opt",
    r"\b(?:subscrib(?:e|es|ed|ing)|subscriptions?)\b",
    r"\b(?:tick|ticks|ticked|check|checks|checked)\b[\w\s-]{0,20}\b(?:box|boxes|checkbox(?:es)?)\b",
    r"\bcheckbox(?:es)?\b",
    r"\bconsent(?:s|ed|ing)?\b",
    r"\bconfirm(?:s|ed|ing)?\b(?:[\w\s-]{0,25}\b(?:address|e-?mail|subscription|sign[\s-]?up))",
    r"\b(?:confirmed|verified)\s+(?:opt|e-?mail|address|subscri)",
    r"\b(?:ask|asks|asked|request|requests|requested|agree|agrees|agreed|choose|chose|chosen|"
    r"elect|elected)\s+(?:to\s+(?:receive|get|hear)|for\s+(?:our|the|these|this|it|them))",
    r"\bjoin(?:s|ed|ing)?\b[\w\s-]{0,20}\b(?:list|newsletter|mailing)",
)
# The relationship transactional mail belongs to: an account, an order, a booking.
RELATIONSHIP = _any(
    r"\b(?:create|creates|created|creating|open|opens|opened|opening|register|registers|"
    r"registered|registering|make|makes|made)\s+(?:an?\s+|their\s+|his\s+|her\s+)?accounts?\b",
    r"\bregist(?:er|ers|ered|ering|ration)\b",
    r"\baccount[\s-]holders?\b",
    r"\b(?:place|places|placed|placing|make|makes|made)\s+(?:an?\s+|their\s+)?(?:orders?|"
    r"bookings?|purchases?|reservations?)\b",
    r"\b(?:buy|buys|bought|purchase|purchases|purchased|order|orders|ordered|book|books|booked)"
    r"\s+(?:from|with|at|on|in)\s+(?:us|our)\b",
    r"\b(?:recipients|addresses|list|they)\b[\w\s,-]{0,30}\b(?:are|is|come|comes|belong)\b"
    r"[\w\s-]{0,20}\b(?:our|own|registered|existing|paying)\s+(?:customers|clients|users|"
    r"members|patients|students|account holders)\b",
    r"\b(?:customers|clients|users|members|people|shoppers|buyers|students|patients)\s+"
    r"(?:who|that)\s+(?:have|has|had|hold|use|buy|bought|order|ordered|book|booked|shop|"
    r"shopped|enrol|enroll|enrolled|log|logged)\b",
)
# A list no one asked to be on (AWS's acceptable use policy forbids it).
BOUGHT_LIST = _any(
    r"\b(?:buy|buys|bought|purchase|purchases|purchased|rent|rents|rented|acquire|acquired)\s+"
    r"(?:an?\s+|the\s+|our\s+|third[\s-]party\s+|some\s+)?(?:e-?mail\s+)?(?:lists?|addresses|"
    r"contacts|leads|databases?)\b",
    r"\b(?:scrap(?:e|ed|ing)|harvest(?:ed|ing)?|crawl(?:ed|ing)?)\b",
    r"\bthird[\s-]party\s+(?:lists?|data|contacts|leads)\b",
)

# What mail: the kinds of transactional and marketing mail.
TRANSACTIONAL_KINDS = _any(
    r"\btransactional\b",
    r"\breceipts?\b",
    r"\binvoices?\b",
    r"\bpassword[\s-]?(?:resets?|reminders?|changes?)\b",
    r"\b(?<!in\s)orders?\b(?!\s+to\b)",
    r"\b(?:shipping|shipment|dispatch|delivery|tracking)\s+(?:e-?mails?|mails?|messages?|"
    r"notices?|notifications?|updates?|confirmations?|alerts?)\b",
    r"\bshipping\b",
    r"\b(?:account|booking|appointment|reservation|billing|payment|security|login|sign[\s-]?in|"
    r"order|shipping|delivery|subscription)\s+(?:confirmations?|notifications?|alerts?|"
    r"reminders?|notices?|statements?|verifications?|updates?)\b",
    r"\b(?:verification|confirmation|welcome|activation)\s+(?:e-?mails?|mails?|messages?|"
    r"links?|codes?)\b",
    r"\b(?:one[\s-]time|two[\s-]factor|2fa|otp|login|sign[\s-]?in|magic)\s+(?:codes?|links?)\b",
    r"\b(?:statements?|tickets?|reminders?|alerts?)\b",
)
MARKETING_KINDS = _any(
    r"\bmarketing\b",
    r"\bnews[\s-]?letters?\b",
    r"\bpromotion(?:s|al)?\b",
    r"\b(?:special\s+)?offers?\b",
    r"\b(?:deals|discounts?|coupons?|sales?|campaigns?|digests?|announcements?)\b",
    r"\bproduct\s+(?:news|updates?|launch(?:es)?)\b",
)

# How recipients opt out: the topic, and a way to do it.
OPT_OUT = _any(
    r"\bunsubscri\w*",
    r"\bopt(?:s|ed|ing)?[\s-]?outs?\b",
    r"\blist-unsubscribe\b",
    r"\bprefer[e]?nces?\b",
    r"\bstop\s+(?:receiving|getting)\b",
    r"\bstop\s+(?:these|our|the|all|any|further|future|such)\s+(?:e-?mails?|mails?|messages?)",
    r"\b(?:turn|turns|switch|switches)\s+(?:them\s+|it\s+)?off\b",
    r"\bwithdraw(?:s|n)?\s+(?:their\s+|his\s+|her\s+)?consent\b",
    r"\breply\s+(?:with\s+)?[\"'“]?stop\b",
    r"\b(?:close|closes|closed|delete|deletes|deleted)\s+(?:their|the|his|her|an?)\s+accounts?\b",
)
OPT_OUT_WAY = _any(
    r"\blinks?\b",
    r"\bheaders?\b",
    r"\bbuttons?\b",
    r"\bfooters?\b",
    r"\bpages?\b",
    r"\bcent(?:re|er)\b",
    r"\bone[\s-]click\b",
    r"\breply(?:ing)?\b",
    r"\bsettings?\b",
    r"\bforms?\b",
    r"\bhono(?:u)?r(?:s|ed|ing)?\b",
    r"\b(?:immediately|instantly|at once|right away|within\s+\w+)\b",
    r"\b(?:removes?|removed|removing|deletes?|deleted|processe?s?d?|applie[sd]|applied)\b",
    r"\b(?:close|closes|closed|delete|deletes|deleted)\s+(?:their|the|his|her|an?)\s+accounts?\b",
    r"\blist-unsubscribe\b",
    r"\bprefer[e]?nces?\b",
)

# Bounces and complaints: each named, and what is done about them.
BOUNCES = _any(
    r"\bbounc\w*",
    r"\bundeliver(?:able|ed)\b",
    r"\b(?:invalid|dead|non[\s-]?existent)\s+(?:e-?mail\s+)?addresses\b",
)
COMPLAINTS = _any(
    r"\bcomplain\w*",
    r"\bspam\s+(?:reports?|complaints?|flags?|button)\b",
    r"\b(?:mark|marks|marked|report|reports|reported|flag|flags|flagged)\s+(?:\w+\s+){0,3}"
    r"(?:as|for)\s+(?:spam|junk|abuse)\b",
    r"\babuse\s+reports?\b",
    r"\bfeedback[\s-]loops?\b",
    r"\bfbls?\b",
)
FEEDBACK_PRACTICE = _any(
    r"\b(?:remov|delet|suppress|unsubscrib|disabl|deactivat|blocklist|blacklist|purg|drop)\w*",
    r"\bstop(?:s|ped|ping)?\s+(?:sending|emailing|mailing|contacting|all\s+mail)\b",
    r"\b(?:never|no longer|not)\s+(?:\w+\s+)?(?:send|sent|email|emailed|mail|mailed|contact"
    r"|contacted|write|written)\b",
    r"\b(?:mark|marks|marked|flag|flags|flagged)\s+(?:\w+\s+){0,3}as\s+(?:inactive|invalid|"
    r"undeliverable|bounced|do[\s-]not)",
    r"\b(?:sns|notifications?|webhooks?|event\s+destinations?|configuration\s+sets?|feedback"
    r"[\s-]loops?|suppression\s+lists?)\b",
    r"\b(?:investigat|review)\w*\b",
)


@dataclass(frozen=True)
class Answer:
    """One answer cut from a use case description: its label (may be empty) and its text."""

    label: str
    text: str

    @property
    def whole(self) -> str:
        """Label and text together: a label names the topic ("Bounces: removed via SNS")."""
        return f"{self.label}: {self.text}" if self.label else self.text

    @property
    def has_substance(self) -> bool:
        """The text reads as English: three words or more, one of them a word only sentences
        have (we, the, to, who, via...). A bare keyword list has none of those."""
        words = [w.lower().replace("’", "'") for w in WORD.findall(self.text)]
        return len(words) >= 3 and any(w in FUNCTION_WORDS for w in words)


Judge = Callable[[Answer, str], bool]
REFERS_BACK = re.compile(
    r"\b(?:they|them|their|these|those|such|it|its|this|that|each|both)\b", re.I
)


def _with_follow_ups(answers: list[Answer]) -> list[Answer]:
    """The answers with substance, and each one joined to the next when the next refers back
    to it ("Bounces and complaints reach us through SNS. We remove those addresses.")."""
    found = [a for a in answers if a.has_substance]
    for first, then in pairwise(answers):
        if first.has_substance and then.has_substance and REFERS_BACK.search(then.text):
            found.append(Answer(first.label, f"{first.text}. {then.whole}"))
    return found


@dataclass(frozen=True)
class Question:
    """One thing a reviewer needs the use case description to answer."""

    key: str
    label: str  # the label the lab teaches ("List", ..., "Bounces and complaints")
    question: str
    missing: str  # "Your request does not describe <missing>."
    example: str  # a labelled answer that would do
    vague: str  # what a mention without an answer lacks
    mentions: Callable[[str], bool]  # the answer is about this question
    judge: Judge  # ... and answers it (given the MailType)

    def answered_by_all(self, answers: list[Answer], mail_type: str) -> bool:
        """Whether ``answers`` together answer the question (the feedback question needs
        bounces and complaints, which may be answered in two sentences)."""
        good = [a for a in _with_follow_ups(answers) if self.judge(a, mail_type)]
        if self.key != "feedback":
            return bool(good)
        return any(BOUNCES.search(a.whole) for a in good) and any(
            COMPLAINTS.search(a.whole) for a in good
        )

    def comment(self, answers: list[Answer], mail_type: str) -> str:
        """What a reviewer adds about an unanswered question: the topic named only as a keyword,
        named without a practice, or (marketing) customers who never opted in; or nothing."""
        about = [a for a in answers if self.mentions(a.whole)]
        if not about:
            return ""
        if not any(a.has_substance for a in about):
            return " A keyword is not an answer: say it in a sentence."
        if (
            self.key == "recipients"
            and mail_type == "MARKETING"
            and any(RELATIONSHIP.search(a.whole) for a in about)
        ):
            return " " + MARKETING_CONSENT
        return " " + self.vague


def _recipients(answer: Answer, mail_type: str) -> bool:
    text = answer.whole
    if BOUGHT_LIST.search(text):
        return False
    if CONSENT.search(text):
        return True
    return mail_type != "MARKETING" and RELATIONSHIP.search(text) is not None


def _content(answer: Answer, mail_type: str) -> bool:
    return bool(TRANSACTIONAL_KINDS.search(answer.whole) or MARKETING_KINDS.search(answer.whole))


def _opt_out(answer: Answer, mail_type: str) -> bool:
    text = answer.whole
    return bool(OPT_OUT.search(text) and OPT_OUT_WAY.search(text))


def _feedback(answer: Answer, mail_type: str) -> bool:
    text = answer.whole
    return bool(
        (BOUNCES.search(text) or COMPLAINTS.search(text)) and FEEDBACK_PRACTICE.search(text)
    )


def _mentions(*patterns: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: any(p.search(text) for p in patterns)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "recipients",
        "List",
        "How do you build your list: where do the addresses come from?",
        "how you build your recipient list: where the addresses come from and whether "
        "the recipients asked for your mail (for example, people who sign up and confirm "
        "their address)",
        "List: customers who create an account on our site and confirm their address.",
        "You mention your recipients, but not how their addresses reach you or that they asked "
        "for your mail.",
        _mentions(CONSENT, RELATIONSHIP, BOUGHT_LIST, re.compile(r"\b(?:list|recipients)\b", re.I)),
        _recipients,
    ),
    Question(
        "content",
        "Content",
        "What mail do you send?",
        "what you send: the kind of messages (transactional such as password resets and "
        "receipts, or marketing such as newsletters)",
        "Content: we send order confirmations, shipping updates and password resets.",
        "You mention sending, but not what kind of mail.",
        _mentions(TRANSACTIONAL_KINDS, MARKETING_KINDS, re.compile(r"\bsend\b", re.I)),
        _content,
    ),
    Question(
        "unsubscribe",
        "Opt-out",
        "How can recipients opt out?",
        "how recipients stop your mail: an unsubscribe link or header, and how you honour it",
        "Opt-out: every email has an unsubscribe link in its footer, applied at once.",
        "You mention opting out, but not how: a link, a header or a page, and how you honour it.",
        _mentions(OPT_OUT),
        _opt_out,
    ),
    Question(
        "feedback",
        "Bounces and complaints",
        "How do you handle bounces and complaints?",
        "how you handle bounces and complaints (for example, SNS notifications that remove "
        "the address from your list, and the SES suppression list)",
        "Bounces and complaints: SES notifies us of each one through SNS, and we remove the "
        "address from our list.",
        "You mention bounces or complaints, but not both, or not what you do about them.",
        _mentions(BOUNCES, COMPLAINTS),
        _feedback,
    ),
)
MARKETING_CONSENT = (
    "MailType is MARKETING, so say that the recipients asked for your mail (they opt in, "
    "subscribe or tick a box): having an account or an order is not consent to marketing."
)
NO_DESCRIPTION = (
    "Your request has no UseCaseDescription. The API no longer requires one, but we still need "
    "to know how you built your list, what you send, how recipients opt out and how you handle "
    "bounces and complaints."
)
BOUGHT = (
    "Your request suggests addresses you bought, rented or collected: AWS allows mail only to "
    "recipients who asked for it."
)


def answers_of(description: str) -> list[Answer]:
    """The answers in ``description``: lines, bullets, numbered items, sentences and clauses
    after ``;``, each with its label (``List: ...``, or the question just before it) if it has
    one. Questions themselves (copied from the form or the notes) answer nothing."""
    out: list[Answer] = []
    asked = ""  # a question just before an answer labels it ("Bounces? We remove them.")
    for line in re.split(r"[\r\n]+|\s(?=\(?\d{1,2}[.)]\s)", description):
        line = BULLET.sub("", line)
        for piece in re.split(r"(?<=[.!?;])\s+|;\s*", line):
            piece = BULLET.sub("", piece).strip()
            if not piece:
                continue
            if piece.endswith("?"):
                asked = piece.rstrip("?")
                continue
            label, asked = asked, ""
            found = LABEL.match(piece)
            if found and len(WORD.findall(found.group(1))) <= 5:
                label, piece = found.group(1).strip(), piece[found.end() :].strip()
            elif not label and QUESTION_START.match(piece):
                continue
            out.append(Answer(label, piece.rstrip(".!; ")))
    return out


@dataclass(frozen=True)
class Review:
    """The outcome of reviewing one request."""

    granted: bool
    missing: tuple[Question, ...]
    problems: tuple[str, ...]  # problems outside the four questions (URL, flag, bought list)
    comments: tuple[str, ...] = ()  # per missing question, what the reviewer adds (or "")

    @property
    def reasons(self) -> list[str]:
        """Every reason the request is denied, as sentences a sender can act on: each missing
        answer, what it needs, what was wrong with what the request said, and an example of the
        labelled answer that would do."""
        out = list(self.problems)
        comments = self.comments or ("",) * len(self.missing)
        for q, comment in zip(self.missing, comments, strict=True):
            out.append(
                f"Your request does not describe {q.missing}.{comment} Answer it in a sentence "
                f"of its own, for example: '{q.example}'"
            )
        return out


def review(request: dict[str, object]) -> Review:
    """Review a PutAccountDetails request (boto3's parameter names): granted when the website is
    an http(s) URL, ProductionAccessEnabled is true and the use case description answers the
    four questions for the request's MailType; else the missing answers, as ``reasons``."""
    description = str(request.get("UseCaseDescription") or "")
    mail_type = str(request.get("MailType") or "").upper()
    problems = []
    if not URL.match(str(request.get("WebsiteURL") or "")):
        problems.append("Your request needs the address (http or https URL) of your website.")
    if request.get("ProductionAccessEnabled") is not True:
        problems.append("ProductionAccessEnabled is not true: no production access was requested.")
    if not description.strip():
        problems.append(NO_DESCRIPTION)
    answers = answers_of(description)
    if BOUGHT_LIST.search(description):
        problems.append(BOUGHT)
    missing = tuple(q for q in QUESTIONS if not q.answered_by_all(answers, mail_type))
    return Review(
        granted=not problems and not missing,
        missing=missing,
        problems=tuple(problems),
        comments=tuple(q.comment(answers, mail_type) for q in missing),
    )
