"""SES identities verified the way AWS verifies them: DNS records for domains, a link for addresses.

moto marks every identity verified the moment it is created. AWS does not
(https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html):

- a **domain** is verified when SES finds its Easy DKIM CNAME records
  ``<token>._domainkey.<domain>`` → ``<token>.dkim.amazonses.com`` (all three tokens) or, for the
  SES v1 API, its ``_amazonses.<domain>`` TXT record with the verification token; SES keeps
  looking for 72 hours, then the status is FAILED;
- an **email address** is verified when its owner opens the link in the verification email SES
  sends it; the link expires after 24 hours;
- a custom **MAIL FROM** domain (a subdomain of the identity's domain) is in use once SES finds
  exactly one MX record pointing at ``feedback-smtp.<region>.amazonses.com``.

DNS here is moto's Route 53 (``course.backend.ses.dns``). Statuses are evaluated lazily, on the
backend's clock, whenever an identity is read or used to send. This module keeps the state, and
serves the links SES mails and hosts (``/_course/ses/verify``, ``/_course/ses/dkim/<token>``);
``course.backend.ses.identity_actions`` answers the API calls. moto still stores each identity
(tags, policies and notification topics stay moto's).
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from typing import Any
from urllib.parse import parse_qs

from course.backend.core import clock, moto_state
from course.backend.core.registry import Reply, on_reset, page
from course.backend.mail.mailbox import MAILBOX
from course.backend.ses import dns as ses_dns

DOMAIN_WINDOW = 72 * 3600  # SES looks for DNS records for 72 hours
EMAIL_LINK_LIFETIME = 24 * 3600  # a verification link expires after 24 hours
VERIFY_PATH = "/_course/ses/verify"
VERIFICATION_SENDER = "Amazon Web Services <no-reply-aws@amazon.com>"
SIMULATOR_DOMAIN = "simulator.amazonses.com"

# SESv2 spellings; v1 uses Pending/Success/Failed/TemporaryFailure/NotStarted
PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE, NOT_STARTED = (
    "PENDING",
    "SUCCESS",
    "FAILED",
    "TEMPORARY_FAILURE",
    "NOT_STARTED",
)
V1_STATUS = {
    PENDING: "Pending",
    SUCCESS: "Success",
    FAILED: "Failed",
    TEMPORARY_FAILURE: "TemporaryFailure",
    NOT_STARTED: "NotStarted",
}


def _token(length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _status(found: bool, ever_found: bool, since: float, window: float = DOMAIN_WINDOW) -> str:
    """What SES reports about what it looks for: found; lost after it was found; still looked
    for, until ``window`` seconds after ``since``; or given up on."""
    if found:
        return SUCCESS
    if ever_found:
        return TEMPORARY_FAILURE
    return FAILED if clock.now() - since > window else PENDING


@dataclass
class Identity:
    """One SES identity of an account in a region, and what SES has found about it."""

    name: str
    kind: str  # "DOMAIN" or "EMAIL_ADDRESS"
    created: float
    verification_token: str = ""  # the _amazonses TXT value (domains) or the link's token
    confirmed_at: float | None = None  # email addresses: when the link was opened
    dkim_tokens: list[str] = field(default_factory=list)
    dkim_started: float | None = None
    dkim_signing_enabled: bool = False
    dkim_key_length: str = "RSA_2048_BIT"
    dkim_ever_found: bool = False
    dkim_found: bool = False
    txt_found: bool = False
    ever_verified: bool = False
    mail_from_domain: str = ""
    mail_from_behavior: str = "USE_DEFAULT_VALUE"
    mail_from_set_at: float = 0.0
    mail_from_ever_found: bool = False
    mail_from_found: bool = False
    configuration_set: str | None = None
    feedback_forwarding: bool = True
    last_checked: float = 0.0
    _private_key: bytes | None = field(default=None, repr=False)

    @property
    def is_domain(self) -> bool:
        """Whether the identity is a domain (else an email address)."""
        return self.kind == "DOMAIN"

    @property
    def domain(self) -> str:
        """The domain itself, or the domain of the address."""
        return self.name if self.is_domain else self.name.rsplit("@", 1)[-1]

    # -- statuses (call ``refresh`` first)
    @property
    def verification_status(self) -> str:
        """PENDING, SUCCESS, FAILED or TEMPORARY_FAILURE, as SES v2 spells them."""
        if self.is_domain:
            return _status(self.txt_found or self.dkim_found, self.ever_verified, self.created)
        found = self.confirmed_at is not None
        return _status(found, False, self.created, EMAIL_LINK_LIFETIME)

    @property
    def verified(self) -> bool:
        """Whether the identity may send (its verification succeeded)."""
        return self.verification_status == SUCCESS

    @property
    def dkim_status(self) -> str:
        """Easy DKIM's status: NOT_STARTED until the domain has tokens, then as DNS shows it."""
        if not self.dkim_tokens or self.dkim_started is None:
            return NOT_STARTED
        return _status(self.dkim_found, self.dkim_ever_found, self.dkim_started)

    @property
    def mail_from_status(self) -> str:
        """The custom MAIL FROM domain's status; "" when there is none."""
        if not self.mail_from_domain:
            return ""
        return _status(self.mail_from_found, self.mail_from_ever_found, self.mail_from_set_at)

    @property
    def signs(self) -> bool:
        """True when SES DKIM-signs mail from this identity (Easy DKIM on and verified)."""
        return self.dkim_signing_enabled and self.dkim_status == SUCCESS

    def private_key(self) -> bytes:
        """The identity's DKIM private key (PEM), made once (``start_dkim`` starts it early)."""
        with _KEY_LOCK:
            return self._make_key()

    def _make_key(self) -> bytes:
        if self._private_key is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            bits = 1024 if self.dkim_key_length == "RSA_1024_BIT" else 2048
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            self._private_key = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        return self._private_key

    def public_key_record(self) -> str:
        """The DKIM key record SES publishes at ``<token>.dkim.amazonses.com``."""
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(self.private_key(), password=None)
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"

    def refresh(self, account_id: str, region: str) -> None:
        """Look the identity's DNS records up again (lazily, as SES's periodic checks would)."""
        now = clock.now()
        self.last_checked = now
        if self.is_domain:
            domain = self.name
            self.txt_found = self.verification_token in ses_dns.lookup(
                account_id, f"_amazonses.{domain}", "TXT"
            )
            if self.dkim_tokens and self.dkim_started is not None:
                self.dkim_found = all(
                    f"{t}.dkim.amazonses.com"
                    in ses_dns.lookup(account_id, f"{t}._domainkey.{domain}", "CNAME")
                    for t in self.dkim_tokens
                )
                self.dkim_ever_found |= self.dkim_found
            self.ever_verified |= self.txt_found or self.dkim_found
        if self.mail_from_domain:
            hosts = ses_dns.mx_hosts(account_id, self.mail_from_domain)
            wanted = f"feedback-smtp.{region}.amazonses.com"
            # "you must publish exactly one MX record" (mail-from.html)
            self.mail_from_found = len(hosts) == 1 and hosts[0][1] == wanted
            self.mail_from_ever_found |= self.mail_from_found


Key = tuple[str, str]
_KEY_LOCK = threading.Lock()


class IdentityStore:
    """Every account's and region's identities, plus the open verification links."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._by_region: dict[Key, dict[str, Identity]] = {}
        self._links: dict[str, tuple[str, str, str]] = {}

    def clear(self) -> None:
        """Forget every identity and link (backend reset)."""
        with self.lock:
            self._by_region.clear()
            self._links.clear()

    def _region(self, account_id: str, region: str) -> dict[str, Identity]:
        return self._by_region.setdefault((account_id, region), {})

    def get(self, account_id: str, region: str, name: str) -> Identity | None:
        """The identity named ``name`` with its statuses refreshed, or None."""
        with self.lock:
            identity = self._region(account_id, region).get(normalize(name))
            if identity is None and _in_moto(account_id, region, normalize(name)):
                identity = self._add(account_id, region, normalize(name))
            if identity is not None:
                identity.refresh(account_id, region)
            return identity

    def all(self, account_id: str, region: str) -> list[Identity]:
        """Every identity of the region (moto's too), refreshed, in creation order."""
        with self.lock:
            for name in _moto_names(account_id, region):
                if name not in self._region(account_id, region):
                    self._add(account_id, region, name)
            identities = list(self._region(account_id, region).values())
            for identity in identities:
                identity.refresh(account_id, region)
            return identities

    def _add(self, account_id: str, region: str, name: str) -> Identity:
        kind = "EMAIL_ADDRESS" if "@" in name else "DOMAIN"
        identity = Identity(name=name, kind=kind, created=clock.now())
        if identity.is_domain:  # shaped like SES's: base64 of 32 random bytes
            identity.verification_token = base64.b64encode(secrets.token_bytes(32)).decode()
        self._region(account_id, region)[name] = identity
        return identity

    def create(self, account_id: str, region: str, name: str) -> tuple[Identity, bool]:
        """The identity ``name``, created if new; the flag says whether it was created."""
        with self.lock:
            existing = self._region(account_id, region).get(normalize(name))
            if existing is not None:
                return existing, False
            return self._add(account_id, region, normalize(name)), True

    def start_dkim(self, identity: Identity, key_length: str | None = None) -> list[str]:
        """Give a domain its three Easy DKIM tokens (once) and turn signing on."""
        with self.lock:
            if not identity.dkim_tokens:
                identity.dkim_tokens = [_token(32) for _ in range(3)]
                identity.dkim_started = clock.now()
                identity.dkim_key_length = key_length or identity.dkim_key_length
                identity.dkim_signing_enabled = True
                # an RSA key takes a moment: make it now, not while a message is being sent
                threading.Thread(target=identity.private_key, daemon=True).start()
            return list(identity.dkim_tokens)

    def delete(self, account_id: str, region: str, name: str) -> bool:
        """Forget the identity and its open links; whether there was one."""
        with self.lock:
            gone = self._region(account_id, region).pop(normalize(name), None)
            self._links = {t: v for t, v in self._links.items() if v[2] != normalize(name)}
            return gone is not None

    def send_verification_email(
        self, account_id: str, region: str, identity: Identity, base_url: str
    ) -> str:
        """Mail the address a link that verifies it (a new one each time); returns the link."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            identity.verification_token = token
            identity.created = clock.now()  # the 24 hours start again with each new email
            self._links[token] = (account_id, region, identity.name)
        link = f"{base_url.rstrip('/')}{VERIFY_PATH}?token={token}"
        where = region_name(region)
        MAILBOX.deliver(
            source="verification",
            sender=VERIFICATION_SENDER,
            recipients=[identity.name],
            subject=f"Amazon Web Services – Email Address Verification Request in region {where}",
            text=(
                "Dear Amazon Web Services Customer,\n\n"
                "We have received a request to authorize this email address for use with "
                f"Amazon SES and Amazon Pinpoint in region {where}. If you requested this "
                "verification, please go to the following URL to confirm that you are "
                f"authorized to use this email address:\n\n{link}\n\n"
                "Your request will not be processed unless you confirm the address using this "
                "URL. This link expires 24 hours after your original verification request.\n\n"
                "If you did NOT request to verify this email address, do not click on the link."
                "\n\nSincerely,\n\nThe Amazon Web Services Team."
            ),
        )
        return link

    def confirm(self, token: str) -> tuple[str, Identity | None]:
        """Open a verification link: ("verified" | "expired" | "unknown", identity)."""
        with self.lock:
            target = self._links.get(token)
            if target is None:
                return "unknown", None
            account_id, region, name = target
            identity = self._region(account_id, region).get(name)
            if identity is None or identity.verification_token != token:
                return "unknown", None
            if identity.confirmed_at is None and clock.now() - identity.created > (
                EMAIL_LINK_LIFETIME
            ):
                return "expired", identity
            if identity.confirmed_at is None:
                identity.confirmed_at = clock.now()
            return "verified", identity

    def dkim_key_for_token(self, token: str) -> Identity | None:
        """The domain identity one of whose Easy DKIM tokens is ``token``, if any."""
        with self.lock:
            for identities in self._by_region.values():
                for identity in identities.values():
                    if token in identity.dkim_tokens:
                        return identity
        return None


STORE = IdentityStore()
on_reset(STORE.clear)


def normalize(name: str) -> str:
    """An identity's key: domains lower case; addresses keep their local part, lower the domain."""
    name = name.strip()
    if "@" in name:
        local, _, domain = name.rpartition("@")
        return f"{local}@{domain.lower()}"
    return name.lower().rstrip(".")


def address_of(value: str) -> str:
    """The bare address in ``"Name <a@b>"`` or ``a@b``."""
    return parseaddr(value)[1] or value.strip()


def is_simulator(address: str) -> bool:
    """True for the mailbox simulator's addresses (with or without a ``+label``)."""
    return address_of(address).lower().endswith("@" + SIMULATOR_DOMAIN)


def verifying_identity(account_id: str, region: str, address: str) -> Identity | None:
    """The verified identity that covers ``address``: itself, its domain or a parent domain."""
    address = normalize(address_of(address))
    candidates = [address] if "@" in address else []
    domain = address.rsplit("@", 1)[-1]
    parts = domain.split(".")
    candidates += [".".join(parts[i:]) for i in range(len(parts) - 1)]
    for name in candidates:
        identity = STORE.get(account_id, region, name)
        if identity is not None and identity.verified:
            return identity
    return None


def signing_identity(account_id: str, region: str, address: str) -> Identity | None:
    """The domain identity whose Easy DKIM key signs mail from ``address``, if any."""
    domain = normalize(address_of(address)).rsplit("@", 1)[-1]
    parts = domain.split(".")
    for name in (".".join(parts[i:]) for i in range(len(parts) - 1)):
        identity = STORE.get(account_id, region, name)
        if identity is not None and identity.signs:
            return identity
    return None


def _moto_names(account_id: str, region: str) -> list[str]:
    try:
        return [normalize(n) for n in moto_state.ses(account_id, region).email_identities]
    except KeyError:
        return []


def _in_moto(account_id: str, region: str, name: str) -> bool:
    return name in _moto_names(account_id, region)


def notification_topics(account_id: str, region: str, identity: str) -> dict[str, Any]:
    """The identity's notification settings as moto keeps them (SetIdentityNotificationTopic,
    feedback forwarding): topic ARNs by "Bounce", "Complaint" and "Delivery", and
    ``feedback_forwarding_enabled``; empty when none was set."""
    try:
        return dict(moto_state.ses(account_id, region).sns_topics.get(identity, {}))
    except KeyError:
        return {}


@cache
def region_name(region: str) -> str:
    """A region's long name as AWS writes it in mail (``US East (N. Virginia)``)."""
    import botocore.session

    for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
        if region in partition.get("regions", {}):
            return partition["regions"][region].get("description", region)
    return region


def html_page(status: int, title: str, text: str) -> Reply:
    """A small HTML page (what the links SES mails open show)."""
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    return Reply(status, body.encode(), [("Content-Type", "text/html; charset=utf-8")])


@page(VERIFY_PATH)
def verify_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The link in a verification email: opening it verifies the address."""
    token = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
    outcome, identity = STORE.confirm(token)
    if outcome == "verified" and identity is not None:
        return html_page(
            200,
            "Congratulations!",
            f"You have successfully verified {identity.name}. You can now start sending "
            "email from this address.",
        )
    if outcome == "expired":
        return html_page(
            410, "Link expired", "This verification link has expired; request a new one."
        )
    return html_page(404, "Unknown link", "This verification link is not valid.")


@page("/_course/ses/dkim/")
def dkim_key_page(environ: dict[str, Any], body: bytes) -> Reply:
    """``/_course/ses/dkim/<token>``: the key record SES hosts at ``<token>.dkim.amazonses.com``."""
    token = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    identity = STORE.dkim_key_for_token(token)
    if identity is None:
        return Reply(404, b"no such DKIM token", [("Content-Type", "text/plain")])
    return Reply(200, identity.public_key_record().encode(), [("Content-Type", "text/plain")])
