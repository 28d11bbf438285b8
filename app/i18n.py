"""Translations: the current request's language, gettext for Python code, and language negotiation."""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
SOURCE_LOCALE = "en"
LOCALE_COOKIE = "folio_lang"

_current_locale: ContextVar[str] = ContextVar("folio_locale", default=SOURCE_LOCALE)


@lru_cache(maxsize=None)
def translations_for(locale: str) -> NullTranslations:
    """The compiled catalog for a locale (cached), or the source strings when there is none."""
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


@lru_cache(maxsize=1)
def available_locales() -> tuple[str, ...]:
    """English plus every locale that has a catalog under app/translations."""
    found = {SOURCE_LOCALE}
    if TRANSLATIONS_DIR.is_dir():
        for entry in TRANSLATIONS_DIR.iterdir():
            if (entry / "LC_MESSAGES" / "messages.po").exists():
                found.add(entry.name)
    return tuple(sorted(found))


def language_name(locale: str) -> str:
    """A language's name in that language ("English", "español")."""
    try:
        parsed = Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        return locale
    return (parsed.get_display_name(parsed) or locale).capitalize()


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(
    *, user_locale: str | None, accept_language: str | None, available: tuple[str, ...], default: str
) -> str:
    """The user's own choice if we have it, else the browser's best match, else the default."""
    if user_locale and user_locale in available:
        return user_locale
    preferred = parse_accept_language(accept_language)
    # Babel matches "es_MX" to "es" only via aliases; try the bare language too.
    candidates = []
    for tag in preferred:
        candidates.append(tag)
        candidates.append(tag.split("_")[0])
    match = negotiate_locale(candidates, list(available), sep="_")
    if match:
        return match
    return default if default in available else SOURCE_LOCALE


def set_locale(locale: str) -> None:
    """Make `locale` the language of everything translated in this request."""
    _current_locale.set(locale)


def get_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **variables: object) -> str:
    """Translate `message` into the current language; `%(name)s` placeholders are filled."""
    text = translations_for(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Translate a message that depends on a number; `%(num)s` is that number."""
    text = translations_for(get_locale()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def raw_gettext(message: str) -> str:
    """The translation alone (Jinja's i18n extension fills in the variables itself)."""
    return translations_for(get_locale()).ugettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(get_locale()).ungettext(singular, plural, n)
