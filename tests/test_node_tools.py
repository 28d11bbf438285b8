"""tests/node_tools.py: what the Node-backed test helpers (credential verifier, OpenID provider) share."""

import os
import stat

import pytest

from tests.node_tools import node_with_packages


class Missing(RuntimeError):
    pass


def fake_tools(tmp_path, monkeypatch, **scripts: str):
    """A PATH holding only the given executables, each a shell script."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def package_folder(tmp_path):
    folder = tmp_path / "tool"
    folder.mkdir()
    (folder / "package-lock.json").write_text("{}")
    return folder


def test_no_node_raises_the_callers_reason(tmp_path, monkeypatch):
    fake_tools(tmp_path, monkeypatch, npm="exit 0")
    with pytest.raises(Missing, match="node is not installed"):
        node_with_packages(package_folder(tmp_path), unavailable=Missing)


def test_missing_packages_and_no_npm_raise_the_callers_reason(tmp_path, monkeypatch):
    fake_tools(tmp_path, monkeypatch, node="exit 0")
    with pytest.raises(Missing, match="npm is not installed"):
        node_with_packages(package_folder(tmp_path), unavailable=Missing)


def test_a_failing_npm_ci_says_where_and_why(tmp_path, monkeypatch):
    fake_tools(tmp_path, monkeypatch, node="exit 0", npm="echo 'registry unreachable' >&2; exit 1")
    with pytest.raises(Missing, match=r"npm ci in tests/tool failed: registry unreachable"):
        node_with_packages(package_folder(tmp_path), unavailable=Missing)


def test_npm_ci_runs_in_the_folder_once_and_node_is_returned(tmp_path, monkeypatch):
    bin_dir = fake_tools(tmp_path, monkeypatch, node="exit 0", npm=(
        'echo "$@" >> ../npm-calls; /bin/mkdir -p node_modules && echo {} > node_modules/.package-lock.json'))
    folder = package_folder(tmp_path)
    assert node_with_packages(folder, unavailable=Missing) == str(bin_dir / "node")
    assert node_with_packages(folder, unavailable=Missing) == str(bin_dir / "node")
    assert (tmp_path / "npm-calls").read_text().splitlines() == ["ci --no-audit --no-fund --loglevel=error"]
    assert os.path.exists(folder / "node_modules" / ".package-lock.json")
