"""Wire the backend's SMTP server (``course.backend.ses.smtp``) to IAM and to SES's sending path.

The server listens on a loopback port: the one the backend's server fixed at start when it
serves a gate (``course.backend.core.settings``), else a free one. A notebook finds it at
``GET /_course/ses/smtp`` (JSON: host, port, region, and the AWS endpoint it stands for), the
only way to learn the port, so the server starts on that page's first request: a backend whose
lab sends no mail over SMTP (the grader starts one per submission) never pays for its TLS key,
its thread and its socket.

- AUTH: the user name is an IAM access key id of an active key in moto's IAM; the password
  must be that key's SMTP password for us-east-1 (AWS's derivation; SMTP credentials are per
  region, https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html). Anything else gets
  ``535 Authentication Credentials Invalid``.
- The key's IAM user needs ``ses:SendRawEmail`` (AWS's policy for SMTP users); inline, attached
  and group policies are read, an explicit Deny wins. Otherwise ``554 Access denied``.
- Each message then goes through ``course.backend.ses.sending.submit`` (sandbox, verified
  senders, quotas, DKIM, mailbox with source "smtp", events); ``X-SES-CONFIGURATION-SET`` picks
  a configuration set.
"""

from __future__ import annotations

import fnmatch
import hmac
import json
import threading
from typing import Any

from course.backend.core import clock, moto_state
from course.backend.core.moto_state import DEFAULT_ACCOUNT_ID
from course.backend.core.registry import Reply, json_reply, on_reset, page
from course.backend.core.settings import SETTINGS
from course.backend.ses.account import SendingRefused
from course.backend.ses.sending import Rejection, Submission, submit
from course.backend.ses.smtp import Principal, Refused, SmtpServer, smtp_password

REGION = "us-east-1"
AWS_ENDPOINT = {"host": f"email-smtp.{REGION}.amazonaws.com", "port": 587}


class SessionLog:
    """What the SMTP interface did (AUTH results, each message's reply), for checks to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(self, event: str, **details: Any) -> None:
        """Append one event (``auth`` or ``message``) with its details, at the clock's time."""
        with self._lock:
            self._entries.append({"time": clock.now(), "event": event, **details})

    def entries(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every event (backend reset)."""
        with self._lock:
            self._entries.clear()


LOG = SessionLog()
on_reset(LOG.clear)


def authenticate(username: str, password: str) -> Principal | None:
    """The IAM user owning active access key ``username``, if ``password`` is its SMTP password."""
    try:
        users = list(moto_state.iam(DEFAULT_ACCOUNT_ID).users.values())
    except KeyError:
        return None
    for user in users:
        for key in user.access_keys:
            if key.access_key_id != username or key.status != "Active":
                continue
            expected = smtp_password(key.secret_access_key, REGION)
            if hmac.compare_digest(expected.encode(), password.encode()):
                LOG.add("auth", ok=True, user=username)
                return Principal(username, user.arn, DEFAULT_ACCOUNT_ID)
            LOG.add("auth", ok=False, user=username, reason="wrong password for this key")
            return None
    LOG.add("auth", ok=False, user=username, reason="no active IAM access key with this id")
    return None


def _documents(user: Any, backend: Any) -> list[Any]:
    documents: list[Any] = list(user.policies.values())
    policies = list(user.managed_policies.values())
    for group in backend.get_groups_for_user(user.name):
        documents += list(group.policies.values())
        policies += list(group.managed_policies.values())
    for policy in policies:
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(version.document)
    return documents


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [statements] if isinstance(statements, dict) else list(statements)


def allowed(principal: Principal, action: str = "ses:SendRawEmail") -> bool:
    """Whether the user's IAM policies allow ``action`` (an explicit Deny wins)."""
    backend = moto_state.iam(principal.account_id)
    user = next((u for u in backend.users.values() if u.arn == principal.user_arn), None)
    if user is None:
        return False
    verdict = False
    for document in _documents(user, backend):
        for statement in _statements(document):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if not any(fnmatch.fnmatch(action.lower(), a.lower()) for a in actions):
                continue
            if statement.get("Effect") == "Deny":
                return False
            verdict = verdict or statement.get("Effect") == "Allow"
    return verdict


def deliver(principal: Principal, mail_from: str, recipients: list[str], content: bytes) -> str:
    """Send one SMTP message through SES; a ``Refused`` carries SES's SMTP reply."""
    try:
        message_id = _deliver(principal, mail_from, recipients, content)
    except Refused as refused:
        LOG.add("message", ok=False, sender=mail_from, recipients=recipients, reply=refused.reply)
        raise
    LOG.add(
        "message",
        ok=True,
        sender=mail_from,
        recipients=recipients,
        reply=f"250 Ok {message_id}",
        message_id=message_id,
    )
    return message_id


def _deliver(principal: Principal, mail_from: str, recipients: list[str], content: bytes) -> str:
    if not allowed(principal):
        raise Refused(
            f"554 Access denied: User `{principal.user_arn}' is not authorized to perform "
            f"`ses:SendRawEmail' on resource `arn:aws:ses:{REGION}:{principal.account_id}:"
            f"identity/{mail_from.rsplit('@', 1)[-1]}'"
        )
    submission = Submission(
        principal.account_id,
        REGION,
        content,
        channel="smtp",
        envelope_from=mail_from or None,
        recipients=recipients,
        caller=principal.user_arn.rsplit("/", 1)[-1],
    )
    try:
        return submit(submission)
    except Rejection as exc:
        if exc.kind == "config-set":
            raise Refused(f"554 Configuration Set does not exist: {exc.message}") from None
        raise Refused(f"554 Message rejected: {exc.message}") from None
    except SendingRefused as exc:
        if exc.kind == "paused":
            raise Refused(f"554 Sending paused: {exc.message}") from None
        raise Refused(f"454 Throttling failure: {exc.message}") from None


_server: SmtpServer | None = None
_server_lock = threading.Lock()


def server() -> SmtpServer:
    """The backend's SMTP server, started on first use and kept for the process's life."""
    global _server
    with _server_lock:
        if _server is None:
            _server = SmtpServer(authenticate, deliver).start(port=SETTINGS.smtp_port)
        return _server


@page("/_course/ses/smtp")
def smtp_page(environ: dict[str, Any], body: bytes) -> Reply:
    """``/_course/ses/smtp``: where the interface listens; ``/_course/ses/smtp/log``: its log."""
    if environ.get("PATH_INFO", "").rstrip("/").endswith("/log"):
        document: Any = LOG.entries()  # reading the log starts no server
    else:
        smtp = server()
        document = {
            "host": smtp.host,
            "port": smtp.port,
            "starttls": True,
            "auth": ["LOGIN", "PLAIN"],
            "region": REGION,
            "aws": AWS_ENDPOINT,
        }
    return json_reply(200, document)
