"""The layout shows the design: no import cycles between app modules, and access rules live only in app.access."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in APP.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Every app module and the app modules it imports, wherever the import statement stands (a function-level
    import still makes the two modules depend on each other)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from package import module` runs the package's __init__ too: both are dependencies.
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    import sys

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_app_modules():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# --- who is whose is decided in app/access only --------------------------------------------------------------------

RELATIONSHIP_MODELS = frozenset({"Enrollment", "GuardianLink"})
# Relationship attributes for eager loading (`selectinload(...).selectinload(Enrollment.user)`) decide nothing.
ALLOWED_ATTRIBUTES = frozenset({"user", "school_class"})
# Statements that read (or delete) rows by their columns when handed the model itself.
READING_CALLS = frozenset({"select", "join", "outerjoin", "aliased", "delete", "update", "exists"})
ALLOWED_PACKAGES = ("app.access", "app.models")


def relationship_reads(source: str, filename: str = "<source>") -> list[int]:
    """The lines of `source` that read enrolments or guardian links: a column of Enrollment or GuardianLink (also
    through an import alias, `models.Enrollment` or an `aliased(...)` copy), or the model handed to select, join,
    aliased, delete or update."""
    tree = ast.parse(source, filename=filename)
    names = set(RELATIONSHIP_MODELS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.asname for alias in node.names if alias.name in RELATIONSHIP_MODELS and alias.asname}

    def is_model(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or (
            isinstance(node, ast.Attribute) and node.attr in RELATIONSHIP_MODELS)

    def call_name(node: ast.Call) -> str:
        return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")

    for node in ast.walk(tree):  # `mine = aliased(Enrollment)`: mine.class_id reads enrolments too
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and call_name(node.value) == "aliased"
                and node.value.args and is_model(node.value.args[0])):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_model(node.value) and node.attr not in ALLOWED_ATTRIBUTES:
            lines.add(node.lineno)
        elif isinstance(node, ast.Call) and call_name(node) in READING_CALLS and any(is_model(a) for a in node.args):
            lines.add(node.lineno)
    return sorted(lines)


def test_only_app_access_reads_enrolments_and_guardian_links():
    """Who teaches whom and whose guardian is whose is decided in app.access.relationships only; any other module
    asks there (constructors and deleting a fetched row stay where they are: only reading decides)."""
    found = [
        f"{path.relative_to(APP.parent)}:{line}"
        for name, path in sorted(_modules().items())
        if not name.startswith(ALLOWED_PACKAGES)
        for line in relationship_reads(path.read_text(), str(path))
    ]
    assert not found, "read enrolments and guardian links through app.access.relationships:\n" + "\n".join(found)


def test_the_relationship_check_finds_reads():
    planted = """
from sqlalchemy.orm import aliased, selectinload
from app import models
from app.models import Enrollment, GuardianLink as Link, SchoolClass

def mine(session, user):
    other = aliased(Enrollment)
    session.exec(select(other.user_id).where(other.class_id == 1))
    session.exec(select(Link.student_id))
    session.exec(sa.delete(Link))
    session.exec(select(SchoolClass).join(Enrollment))
    session.exec(select(models.Enrollment.user_id))
    session.add(Enrollment(class_id=1, user_id=user.id))
    session.exec(select(SchoolClass).options(selectinload(SchoolClass.enrollments).selectinload(Enrollment.user)))
    session.delete(user.enrollment)
"""
    assert relationship_reads(planted) == [7, 8, 9, 10, 11, 12]
