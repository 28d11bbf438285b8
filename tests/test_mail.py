"""Sending email: a real SMTP server (aiosmtpd) on 127.0.0.1 receives what Folio sends.

The `smtp_server` fixture and `mail_settings` helper here are imported by test_digests.py and
test_account_notifications.py."""

from __future__ import annotations

import asyncio
import email
import smtplib
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.config import Settings, SmtpSecurity
from app.mail import InlineImage, MailNotConfigured, build_message, open_mailer, send_email
from tests.conftest import TEST_SECRET
from tests.live_server import free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts; addresses in `refuse` are turned away."""

    def __init__(self) -> None:
        self.received: list[tuple[tuple[str, int], str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.logins: list[tuple[bytes, bytes]] = []
        self.authenticated: list[bool] = []
        self.delay = 0.0  # seconds each message takes to be accepted: a slow server
        self.hang_up_after: int | None = None  # accept this many messages, then refuse the rest: a server going away

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hang_up_after is not None and len(self.received) >= self.hang_up_after:
            return "421 4.3.0 Service shutting down"
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append((session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        self.authenticated.append(bool(session.authenticated))
        return "250 Message accepted for delivery"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right", handled=False)

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for *_rest, raw in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 and a free port, for one test: yields (inbox, port)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=inbox.authenticator,
                            auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def mail_settings(base: Settings | None, port: int, **overrides) -> Settings:
    """`base` (or bare test settings) pointed at the test SMTP server, without TLS."""
    values = dict(smtp_host="127.0.0.1", smtp_port=port, smtp_security=SmtpSecurity.none,
                  mail_from="Folio <folio@school.example>")
    values.update(overrides)
    if base is None:
        return Settings(_env_file=None, secret_key=TEST_SECRET, base_url="http://folio.test", **values)
    return base.model_copy(update=values)


def parts(message: EmailMessage) -> tuple[str, str | None]:
    """The plain-text and HTML parts of a received message."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return plain.get_content(), (html.get_content() if html is not None else None)


# --- tests ------------------------------------------------------------------------------------------


def test_send_email_delivers_text_then_html_with_headers(smtp_server):
    inbox, port = smtp_server
    settings = mail_settings(None, port)
    send_email(settings=settings, to="parent@example.org", subject="Folio: what Maya shared",
               text="Plain words ✓", html="<p>Rich <strong>words</strong> ✓</p>")

    assert len(inbox.received) == 1
    _peer, mail_from, rcpt_tos, _raw = inbox.received[0]
    assert mail_from == "folio@school.example" and rcpt_tos == ["parent@example.org"]
    message = inbox.messages[0]
    assert message["From"] == "Folio <folio@school.example>"
    assert message["To"] == "parent@example.org"
    assert message["Subject"] == "Folio: what Maya shared"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@school.example>")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    text, html = parts(message)
    assert text.strip() == "Plain words ✓"
    assert html.strip() == "<p>Rich <strong>words</strong> ✓</p>"
    assert inbox.logins == []  # no username: no login


def test_text_only_message_and_no_header_injection(smtp_server):
    inbox, port = smtp_server
    send_email(settings=mail_settings(None, port), to="a@example.org", subject="Hello\r\nBcc: evil@example.org", text="Hi")
    message = inbox.messages[0]
    assert message.get_content_type() == "text/plain"
    assert message["Subject"] == "Hello Bcc: evil@example.org"
    assert message["Bcc"] is None
    assert inbox.received[0][2] == ["a@example.org"]


def test_message_ids_are_unique():
    settings = mail_settings(None, 25)
    first = build_message(settings=settings, to="a@example.org", subject="s", text="t")
    second = build_message(settings=settings, to="a@example.org", subject="s", text="t")
    assert first["Message-ID"] != second["Message-ID"]


def test_many_messages_share_one_connection_and_a_refusal_does_not_stop_the_rest(smtp_server):
    inbox, port = smtp_server
    inbox.refuse.add("nobody@example.org")
    with open_mailer(settings=mail_settings(None, port)) as mailer:
        mailer.send(to="one@example.org", subject="1", text="one")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            mailer.send(to="nobody@example.org", subject="2", text="two")
        mailer.send(to="three@example.org", subject="3", text="three")
    assert [m["To"] for m in inbox.messages] == ["one@example.org", "three@example.org"]
    assert len({peer for peer, *_rest in inbox.received}) == 1  # one connection for all of them


def test_login_only_when_a_username_is_set(smtp_server):
    inbox, port = smtp_server
    send_email(settings=mail_settings(None, port, smtp_username="folio", smtp_password="right"),
               to="a@example.org", subject="s", text="t")
    assert inbox.logins == [(b"folio", b"right")]
    assert inbox.authenticated == [True]
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send_email(settings=mail_settings(None, port, smtp_username="folio", smtp_password="wrong"),
                   to="a@example.org", subject="s", text="t")
    assert len(inbox.received) == 1


def test_sending_without_mail_settings_is_an_error():
    settings = Settings(_env_file=None, secret_key=TEST_SECRET)
    assert not settings.email_enabled
    with pytest.raises(MailNotConfigured):
        send_email(settings=settings, to="a@example.org", subject="s", text="t")


def test_an_unreachable_server_raises():
    with pytest.raises(OSError):
        send_email(settings=mail_settings(None, free_port()), to="a@example.org", subject="s", text="t")


def test_tls_mode_uses_tls_from_the_start(smtp_server):
    _inbox, port = smtp_server
    # A plain server answering a TLS hello fails the handshake: proof that "tls" doesn't talk in the clear.
    with pytest.raises((ssl_error(), OSError, smtplib.SMTPException)):
        send_email(settings=mail_settings(None, port, smtp_security=SmtpSecurity.tls), to="a@example.org",
                   subject="s", text="t")


def test_starttls_is_required_when_asked(smtp_server):
    inbox, port = smtp_server
    # The test server offers no STARTTLS: Folio must refuse to go on in the clear rather than send anyway.
    with pytest.raises(smtplib.SMTPNotSupportedError):
        send_email(settings=mail_settings(None, port, smtp_security=SmtpSecurity.starttls), to="a@example.org",
                   subject="s", text="t")
    assert inbox.received == []


def ssl_error():
    import ssl

    return ssl.SSLError


def test_lines_starting_with_from_and_long_headers_arrive_as_written(smtp_server):
    inbox, port = smtp_server
    url = "https://folio.example/digest/settings/" + "x" * 90
    with open_mailer(settings=mail_settings(None, port)) as mailer:
        mailer.send(to="a@example.org", subject="s", text="Dear family,\nFrom Monday the hall is closed.\n",
                    html="<p>Hi</p>\nFrom Monday", headers={"List-Unsubscribe": f"<{url}>"},
                    images=[InlineImage(cid="dot@folio", data=b"\xff\xd8\xff\xd9")])
    raw = inbox.received[0][3]
    assert b"\r\nFrom Monday" in raw and b">From" not in raw  # no mbox-style mangling
    assert f"List-Unsubscribe: <{url}>".encode() in raw  # one plain line, not encoded words
    message = inbox.messages[0]
    assert parts(message)[0].replace("\r\n", "\n") == "Dear family,\nFrom Monday the hall is closed.\n"
    related = message.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    assert [p["Content-ID"] for p in related.iter_parts()] == [None, "<dot@folio>"]
