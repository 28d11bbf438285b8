"""Sending email over SMTP: one message (send_email), or many over one connection (open_mailer).

Every message is multipart/alternative (plain text first, then HTML when given; with inline images the HTML and
its images are a multipart/related), From the configured address, with Message-ID and Date headers. It goes out
as bytes written with the SMTP policy: smtplib's own send_message would write it with the mbox convention that
turns a line starting "From " into ">From ". Callers check settings.email_enabled first: sending without
mail settings is an error (MailNotConfigured), never a silent no-op.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from app.config import Settings, SmtpSecurity
from app.models.base import utcnow

SMTP_TIMEOUT_SECONDS = 30
# CRLF line ends, no ">From" mangling. Bodies are encoded for 78-character lines; headers may run to RFC 5322's
# hard limit when they must, so a long List-Unsubscribe address stays one plain <URL> instead of encoded words.
SMTP_POLICY = policy.SMTP
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class InlineImage:
    """An image carried inside the message and shown by the HTML part as <img src="cid:{cid}">."""

    cid: str  # without angle brackets, e.g. "photo-12@folio"
    data: bytes
    subtype: str = "jpeg"
    filename: str = "photo.jpg"


class MailNotConfigured(RuntimeError):
    """Raised when something tries to send email but FOLIO_SMTP_HOST is not set."""


def _one_line(value: str) -> str:
    # Header values must not carry line breaks (header injection); names come from user input.
    return " ".join(value.split())


def _message_id_domain(settings: Settings) -> str:
    _name, address = parseaddr(settings.mail_from)
    domain = address.rpartition("@")[2]
    return domain or urlsplit(settings.base_url).hostname or "localhost"


def build_message(
    *, settings: Settings, to: str, subject: str, text: str, html: str | None = None,
    images: Sequence[InlineImage] = (), headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The email as it will be sent: plain text first, then the HTML alternative with its inline images."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _one_line(settings.mail_from)
    message["To"] = _one_line(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_message_id_domain(settings))
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = _one_line(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        html_part = message.get_payload()[1]
        for image in images:
            html_part.add_related(image.data, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>",
                                  disposition="inline", filename=image.filename)
    return message


def message_bytes(message: EmailMessage, *, utf8: bool = False) -> bytes:
    """The message as it goes over the wire (SMTP policy: CRLF, nothing mangled)."""
    return message.as_bytes(policy=WIRE_POLICY.clone(utf8=utf8) if utf8 else WIRE_POLICY)


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.smtp_security is SmtpSecurity.tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        # smtplib writes each command on its own; without Nagle's algorithm holding small writes back, a message to
        # a server on the same host went out in 4.4 ms instead of 6.1 (bench/RESULTS.md, family digests).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.ehlo()
        if settings.smtp_security is SmtpSecurity.starttls:
            connection.starttls(context=context)
            connection.ehlo()
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password)
    except BaseException:
        connection.close()
        raise
    return connection


class Mailer:
    """An SMTP connection opened on the first send and reused; a broken connection is reopened next time."""

    def __init__(self, settings: Settings) -> None:
        if not settings.email_enabled:
            raise MailNotConfigured("Email is not configured: set FOLIO_SMTP_HOST (see README).")
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def send(
        self, *, to: str, subject: str, text: str, html: str | None = None,
        images: Sequence[InlineImage] = (), headers: Mapping[str, str] | None = None,
    ) -> EmailMessage:
        """Send one message (raises smtplib.SMTPException or OSError when it can't go)."""
        message = build_message(settings=self.settings, to=to, subject=subject, text=text, html=html,
                                images=images, headers=headers)
        if self._connection is None:
            self._connection = _connect(self.settings)
        sender = parseaddr(self.settings.mail_from)[1] or self.settings.mail_from
        recipient = parseaddr(to)[1] or to
        international = not (sender.isascii() and recipient.isascii())
        try:
            # An address in Unicode needs SMTPUTF8 (the server refuses it if it can't), as send_message would ask.
            self._connection.sendmail(sender, [recipient], message_bytes(message, utf8=international),
                                      mail_options=["SMTPUTF8", "BODY=8BITMIME"] if international else [])
        except smtplib.SMTPRecipientsRefused:
            raise  # the server said no to this address only; the connection is still good
        except OSError:  # smtplib's errors are OSErrors too: after any other failure, start afresh next time
            self.close()
            raise
        return message

    def close(self) -> None:
        """Say goodbye to the server (quietly, if it has already gone)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


@contextmanager
def open_mailer(*, settings: Settings) -> Iterator[Mailer]:
    """A Mailer for several messages over one connection, closed at the end of the block."""
    mailer = Mailer(settings)
    try:
        yield mailer
    finally:
        mailer.close()


def send_email(*, settings: Settings, to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send one email now (its own connection)."""
    with open_mailer(settings=settings) as mailer:
        mailer.send(to=to, subject=subject, text=text, html=html)


__all__ = ["InlineImage", "MailNotConfigured", "Mailer", "build_message", "message_bytes", "open_mailer", "send_email"]
