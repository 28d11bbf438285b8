"""Sending email over SMTP: one message (send_email), or many over one connection (open_mailer).

Every message is multipart/alternative (plain text first, then HTML when given), From the configured
address, with Message-ID and Date headers. Callers check settings.email_enabled first: sending without
mail settings is an error (MailNotConfigured), never a silent no-op.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from app.config import Settings, SmtpSecurity
from app.models.base import utcnow

SMTP_TIMEOUT_SECONDS = 30


class MailNotConfigured(RuntimeError):
    """Raised when something tries to send email but FOLIO_SMTP_HOST is not set."""


def _one_line(value: str) -> str:
    # Header values must not carry line breaks (header injection); names come from user input.
    return " ".join(value.split())


def _message_id_domain(settings: Settings) -> str:
    _name, address = parseaddr(settings.mail_from)
    domain = address.rpartition("@")[2]
    return domain or urlsplit(settings.base_url).hostname or "localhost"


def build_message(*, settings: Settings, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """The email as it will be sent: plain text first, then the HTML alternative when given."""
    message = EmailMessage()
    message["From"] = _one_line(settings.mail_from)
    message["To"] = _one_line(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_message_id_domain(settings))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.smtp_security is SmtpSecurity.tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
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

    def send(self, *, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        """Send one message (raises smtplib.SMTPException or OSError when it can't go)."""
        message = build_message(settings=self.settings, to=to, subject=subject, text=text, html=html)
        if self._connection is None:
            self._connection = _connect(self.settings)
        try:
            self._connection.send_message(message)
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


__all__ = ["MailNotConfigured", "Mailer", "build_message", "open_mailer", "send_email"]
