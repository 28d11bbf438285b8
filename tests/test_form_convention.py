"""Every form's parse function in app/services follows the one convention (app/services/forms.py): it returns one
dataclass with the values and an `errors` dict keyed by input name, so a new form can't drift back to tuples or
lone strings."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import typing

import app.services
from app.services.forms import FORM, FormInput

FORM_PARSER = re.compile(r"^(parse|check)_")

# Named like a form parser but not reading a form a person fills in (so no message goes beside a field): each says why.
NOT_FORM_PARSERS = {
    "app.services.classes.class_views.parse_sort",  # a table's sort order from the query string; unknown: the default
    "app.services.competencies.framework_files.check_identifier",  # an identifier inside an imported file; raises
    "app.services.competencies.competency_editing.check_competency_deletion",  # a usage report for the delete confirmation
    "app.services.edit_versions.parse_version",  # the hidden version field; a missing one is not the person's error
    "app.services.exports.archive_checks.check_document",  # an uploaded archive's JSON; raises with the reason
    "app.services.exports.archive_checks.check_files",  # an uploaded archive's files; raises with the reason
    "app.services.exports.leap2a_feed.parse_datetime",  # a LEAP2A feed's timestamps
    "app.services.exports.leap2a_feed.parse_feed",  # a LEAP2A feed's XML; raises with the reason
    "app.services.exports.portfolio_json.parse_timestamp",  # an archive's timestamps
    "app.services.family.reactions.parse_kind",  # the value of the reaction button pressed
    "app.services.moderation.approvals.parse_seen",  # hidden fields: what the approver had on screen
    "app.services.moderation.thread_items.parse_item_type",  # a URL segment; unknown is a 404
    "app.services.operations.file_check.check_files",  # the operator's storage check (a CLI report)
    "app.services.operations.health.check_health",  # the health endpoint
    "app.services.portfolio.goal_forms.parse_date",  # one date input, for check_goal and check_checkin; raises
    "app.services.portfolio.images.check_dimensions",  # an uploaded image's size; raises
    "app.services.portfolio.timeline.parse_filters",  # query-string filters; a malformed one is simply not applied
    "app.services.roster_import.csv_reader.parse_date",  # one cell of an imported spreadsheet, reported per row
    "app.services.showcases.showcases.parse_item_type",  # a URL segment; unknown is a 404
    "app.services.showcases.showcases.parse_order",  # the hidden order field of drag-and-drop
}


def _parse_functions() -> dict[str, typing.Callable]:
    found = {}
    for module_info in pkgutil.walk_packages(app.services.__path__, prefix="app.services."):
        module = importlib.import_module(module_info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if FORM_PARSER.match(name) and function.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = function
    return found


def _problem(function: typing.Callable) -> str | None:
    """Why `function`'s declared result breaks the convention, or None."""
    returned = typing.get_type_hints(function).get("return")
    if not (inspect.isclass(returned) and dataclasses.is_dataclass(returned)):
        return f"returns {returned!r}, not a dataclass"
    errors = {f.name: f for f in dataclasses.fields(returned)}.get("errors")
    if errors is None:
        return f"returns {returned.__name__}, which has no `errors` field"
    if typing.get_type_hints(returned).get("errors") != dict[str, str]:
        return f"{returned.__name__}.errors is not a dict[str, str]"
    return None


def test_every_parse_function_returns_its_values_with_an_errors_dict():
    functions = _parse_functions()
    assert len(functions) > 20, "the discovery found too few functions to be looking in the right place"
    problems = {name: _problem(f) for name, f in functions.items() if name not in NOT_FORM_PARSERS}
    assert {name: problem for name, problem in problems.items() if problem} == {}


def test_the_list_of_exceptions_names_only_functions_that_exist():
    assert NOT_FORM_PARSERS - set(_parse_functions()) == set()


# Three ways a form parser could drift, for the check to refuse.
def _parse_tuple(*, name: str) -> tuple[str, dict[str, str]]:
    return name, {}


def _parse_message(*, name: str) -> str | None:
    return None


@dataclasses.dataclass
class _NoErrors:
    name: str


def _parse_no_errors(*, name: str) -> _NoErrors:
    return _NoErrors(name)


@dataclasses.dataclass
class _LooseErrors:
    errors: list[str]


def _parse_loose_errors(*, name: str) -> _LooseErrors:
    return _LooseErrors([])


def test_the_check_notices_a_form_parser_that_drifts():
    """The check itself can fail: a (data, errors) tuple, a lone message, no errors, or errors as a list."""
    for drifted in (_parse_tuple, _parse_message, _parse_no_errors, _parse_loose_errors):
        assert _problem(drifted) is not None, drifted.__name__


def test_form_parsers_that_take_only_text_give_back_an_errors_dict_when_called():
    """Beyond the declared type: those callable without a database, given an empty form, really return the object
    (with messages keyed by name, or the whole form's under FORM)."""
    called = 0
    for name, function in _parse_functions().items():
        if name in NOT_FORM_PARSERS:
            continue
        hints = typing.get_type_hints(function)
        required = [p for p in inspect.signature(function).parameters.values() if p.default is inspect.Parameter.empty]
        if not required or any(hints.get(p.name) is not str for p in required):
            continue
        result = function(**{p.name: "" for p in required})
        assert isinstance(result, hints["return"]), name
        assert isinstance(result.errors, dict), name
        assert all(isinstance(key, str) and isinstance(message, str) for key, message in result.errors.items()), name
        called += 1
    assert called >= 3


def test_the_shared_base_says_whether_the_form_can_be_used():
    @dataclasses.dataclass
    class Named(FormInput):
        name: str

    assert Named(name="Ada").ok
    refused = Named(name="", errors={FORM: "Nothing was saved."})
    assert not refused.ok and refused.errors == {"form": "Nothing was saved."}
    assert Named(name="x").errors is not Named(name="y").errors
