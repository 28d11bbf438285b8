"""Every user-facing string goes through gettext; the language follows the user, then the browser."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import available_locales, choose_locale, parse_accept_language
from app.models import Role
from tests.factories import login, make_school, make_user

ROOT = Path(__file__).resolve().parent.parent


def test_accept_language_is_parsed_best_first():
    assert parse_accept_language("fr-CA;q=0.5, es-MX, en;q=0.1, de;q=0") == ["es_MX", "fr_CA", "en"]
    assert parse_accept_language("") == []


@pytest.mark.parametrize(
    "user_locale, header, expected",
    [
        ("es", "en", "es"),  # the user's own choice wins
        (None, "es-MX,es;q=0.9,en;q=0.5", "es"),  # regional variant falls back to the language
        (None, "de-DE,fr;q=0.8", "fr"),
        (None, "de-DE", "en"),  # nothing we have: the default
        ("xx", "fr", "fr"),  # a stale setting for a language we no longer have is ignored
    ],
)
def test_choose_locale(user_locale, header, expected):
    available = ("en", "es", "fr")
    assert choose_locale(user_locale=user_locale, accept_language=header, available=available, default="en") == expected


def test_pages_declare_their_language(client):
    response = client.get("/login", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en">' in response.text
    assert response.headers["content-language"] == "en"


def test_user_language_setting_is_saved_and_validated(client, session):
    user = make_user(session, make_school(session))
    login(client, user)
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 422
    assert client.post("/account/language", data={"locale": "en"}).status_code == 303
    session.refresh(user)
    assert user.locale == "en"
    assert client.post("/account/language", data={"locale": ""}).status_code == 303
    session.refresh(user)
    assert user.locale is None
    assert "en" in available_locales()


def test_catalog_template_is_up_to_date(tmp_path):
    """`make messages` has been run: every translatable string in the code is in messages.pot."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "app/translations/babel.cfg",
         "-o", str(fresh), "--no-location", "--ignore-dirs=.* __pycache__", "."],
        cwd=ROOT, check=True,
    )
    with fresh.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (ROOT / "app/translations/messages.pot").open("rb") as handle:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert extracted - committed == set(), "run `make messages` and commit the catalog"
    assert len(extracted) > 50


PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


@pytest.mark.parametrize("locale", ["es", "fr"])
def test_every_message_is_translated_with_the_same_placeholders(locale):
    """Spanish and French are complete: no English left behind, and every %(name)s survives translation."""
    with (ROOT / f"app/translations/{locale}/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    with (ROOT / "app/translations/messages.pot").open("rb") as handle:
        expected = {m.id for m in read_po(handle) if m.id}
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms) or "fuzzy" in message.flags:
            missing.append(message.id)
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        allowed = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        if any(set(PLACEHOLDER.findall(form)) - allowed for form in forms):
            broken.append(message.id)
        if isinstance(message.id, str) and set(PLACEHOLDER.findall(message.id)) != set(PLACEHOLDER.findall(forms[0])):
            broken.append(message.id)
    assert expected - {m.id for m in catalog if m.id} == set(), "run `make messages`"
    assert missing == [], f"{len(missing)} messages untranslated in {locale}, e.g. {missing[:5]}"
    assert broken == [], f"placeholders differ in {locale}: {broken[:5]}"


def test_pages_follow_the_chosen_language(client, session):
    """The footer's switcher works for visitors (cookie) and is saved for signed-in users; dates follow the language."""
    response = client.post("/language", data={"locale": "fr", "next": "/login"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login")
    assert page.headers["content-language"] == "fr"
    assert '<html lang="fr">' in page.text
    assert client.post("/language", data={"locale": "xx", "next": "https://evil.example/"},
                       follow_redirects=False).headers["location"] == "/"
    school = make_school(session)
    user = make_user(session, school, Role.student, username="lang-user")
    login(client, user)
    client.post("/language", data={"locale": "es", "next": "/account"})
    session.refresh(user)
    assert user.locale == "es"
    assert client.get("/account").headers["content-language"] == "es"
