"""What people are told about refused files: sizes as people say them, and why a file wasn't kept."""

from __future__ import annotations

from babel.numbers import format_decimal

from app.i18n import _, get_locale, ngettext
from app.services.portfolio import filetypes


def human_size(size_bytes: int) -> str:
    """A size as people say it: "240 MB", "1.5 GB" (binary units, like the settings)."""
    if size_bytes < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size_bytes)
    value = float(size_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    number = format_decimal(round(value, 1) if value < 10 else round(value), locale=get_locale())
    return _("%(number)s %(unit)s", number=number, unit=unit)


def type_message(name: str, reason: str) -> str:
    """A file refused for its type: why, and which types Folio keeps."""
    return _("“%(name)s” isn't a file type Folio keeps: %(reason)s. Allowed: %(allowed)s.",
             name=name, reason=reason, allowed=filetypes.allowed_description())


def refusal_message(*, reason: str | None, name: str, size: int, space_left: int, field: str, head: bytes,
                    max_file_bytes: int, max_files: int) -> str:
    """Why an upload's file part `name` wasn't kept, for the `reason` the receiver refused it (size, quota, field,
    disk, count; anything else is its type, told from its first bytes `head`)."""
    if reason == "size":
        return _("“%(name)s” is %(size)s; the limit is %(limit)s.",
                 name=name, size=human_size(size), limit=human_size(max_file_bytes))
    if reason == "quota":
        return _("“%(name)s” is %(size)s, but only %(space)s of your storage space is left.",
                 name=name, size=human_size(size), space=human_size(space_left))
    if reason == "field":
        return _("“%(name)s” was sent as “%(field)s”, a field this form doesn't have, so nothing was saved.",
                 name=name, field=field[:60])
    if reason == "disk":
        return _("“%(name)s” wasn't kept: the school's server is out of space. Tell your teacher; your text is "
                 "still here.", name=name)
    if reason == "count":
        return ngettext("“%(name)s” wasn't added: only %(num)s file can be sent at once.",
                        "“%(name)s” wasn't added: only %(num)s files can be sent at once.",
                        max_files, name=name)
    return type_message(name, filetypes.refusal_reason(head))
