"""The SES SMTP interface of the local backend: a real SMTP server (aiosmtpd) on a loopback port.

As on AWS (https://docs.aws.amazon.com/ses/latest/dg/send-email-smtp.html), a client connects,
may upgrade with STARTTLS, authenticates with AUTH LOGIN or PLAIN using SMTP credentials derived
from an IAM access key (``smtp_password``), then sends. On loopback AUTH is also allowed without
TLS, so ``smtplib`` works with or without ``starttls()``. The server only speaks SMTP: who may
authenticate and what happens to a message are the ``authenticate`` and ``deliver`` callables it
is given (``course.backend.ses.smtp_endpoint`` wires them to IAM and to the SES sending path).

Replies follow SES's: ``535 Authentication Credentials Invalid``, ``530 Authentication required``,
``554 Message rejected: ...``, ``454 Throttling failure: Maximum sending rate exceeded.``
(https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html) and
``250 Ok <message id>``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import ssl
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The values AWS's derivation fixes (smtp-credentials.html, "converting existing credentials").
DATE, SERVICE, TERMINAL, MESSAGE, VERSION = "11111111", "ses", "aws4_request", "SendRawEmail", 4
HOSTNAME = "email-smtp.us-east-1.amazonaws.com"

warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def smtp_password(secret_access_key: str, region: str) -> str:
    """The SES SMTP password of an IAM secret access key in ``region``, as AWS derives it.

    https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html: kDate = HmacSha256(date,
    "AWS4" + key); kRegion, kService, kTerminal, kMessage chain on; the password is
    Base64(version 0x04 + kMessage).
    """
    signature = _sign(("AWS4" + secret_access_key).encode("utf-8"), DATE)
    for part in (region, SERVICE, TERMINAL, MESSAGE):
        signature = _sign(signature, part)
    return base64.b64encode(bytes([VERSION]) + signature).decode("utf-8")


@dataclass(frozen=True)
class Principal:
    """Who authenticated: the IAM user behind the SMTP user name (an access key id)."""

    access_key_id: str
    user_arn: str
    account_id: str


class Refused(Exception):
    """The message is refused with this SMTP reply (``"554 Message rejected: ..."``)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


Authenticate = Callable[[str, str], Principal | None]
Deliver = Callable[[Principal, str, list[str], bytes], str]  # returns the message id


class _Handler:
    def __init__(self, authenticate: Authenticate, deliver: Deliver) -> None:
        self.authenticate = authenticate
        self.deliver = deliver

    def authenticator(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        login = getattr(auth_data, "login", b"") or b""
        password = getattr(auth_data, "password", b"") or b""
        principal = self.authenticate(
            login.decode("utf-8", "replace"), password.decode("utf-8", "replace")
        )
        if principal is None:
            return AuthResult(
                success=False, handled=False, message="535 Authentication Credentials Invalid"
            )
        return AuthResult(success=True, auth_data=principal)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        principal = session.auth_data
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        loop = asyncio.get_running_loop()
        try:
            message_id = await loop.run_in_executor(
                None,
                self.deliver,
                principal,
                envelope.mail_from or "",
                list(envelope.rcpt_tos),
                content,
            )
        except Refused as refused:
            return refused.reply
        return f"250 Ok {message_id}"


def _tls_context() -> ssl.SSLContext:
    """A self-signed certificate for the STARTTLS upgrade (clients on loopback don't verify).

    ``load_cert_chain`` reads only files; they live in a directory removed once loaded, so no
    private key is left behind by each backend process.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from course.backend.core.certs import self_signed

    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(key, HOSTNAME, dns_names=(HOSTNAME,))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="course-smtp-") as workdir:
        cert_file, key_file = Path(workdir, "smtp-cert.pem"), Path(workdir, "smtp-key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_file, key_file)
    return context


class SmtpServer:
    """An SES-like SMTP server running on its own event loop thread."""

    def __init__(self, authenticate: Authenticate, deliver: Deliver) -> None:
        self.handler = _Handler(authenticate, deliver)
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SmtpServer:
        """Listen on ``host:port`` (0 picks a free port) and return once it accepts connections."""
        from aiosmtpd.smtp import SMTP

        tls = _tls_context()
        loop = asyncio.new_event_loop()

        def factory() -> SMTP:
            return SMTP(
                self.handler,
                hostname=HOSTNAME,
                ident="SimpleEmailService-course",
                tls_context=tls,
                require_starttls=False,
                auth_required=True,
                auth_require_tls=False,
                authenticator=self.handler.authenticator,
                loop=loop,
            )

        self._server = loop.run_until_complete(loop.create_server(factory, host=host, port=port))
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="ses-smtp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and end the server's thread (at most 5 real seconds each:
        the kit's own shutdown, not AWS time, so never dilated)."""
        if self._loop is None or self._server is None:
            return
        loop, server = self._loop, self._server

        async def close() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._server = self._thread = None
