"""How every service reads a form: one object with the cleaned values and a message beside each field to fix.

The convention (tests/test_form_convention.py holds every `parse_*` / `check_*` function in app/services to it):

- A form's parse function is named `parse_<form>` or `check_<form>`, takes what was typed as keyword arguments and
  returns ONE dataclass: the values, cleaned (kept even when some are wrong, so the re-rendered form shows what was
  typed), plus `errors: dict[str, str]`. Subclass `FormInput` below for `errors` and `ok`.
- An error's key is the name of the input it is about, so the template puts the message beside that field.
  A message about the whole form (not one field) goes under `FORM` ("form").
- The route checks `if not parsed.ok:` (or `if parsed.errors:`), then shows the form again with `parsed.errors` and
  status 422; nothing is saved. Services that act (save, send) may still return or raise their own refusals; the
  reading of their input follows this shape.
- A bulk text parse (a pasted roster) is still one object: the rows it read and `errors` about the whole paste.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The key of a message about the whole form rather than one field.
FORM = "form"


@dataclass(kw_only=True)
class FormInput:
    """Base of a parsed form: subclasses add the values; `errors` maps an input's name (or FORM) to its message."""

    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors
