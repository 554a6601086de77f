"""The project's papers agree with its metadata: licence, changelog, pre-commit hooks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import kpi_lib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_license_file_is_the_license_pyproject_names() -> None:
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"] and "END OF TERMS AND CONDITIONS" in text


def test_the_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert versions[0] == "Unreleased" and kpi_lib.__version__ in versions
    released = [tuple(map(int, v.split("."))) for v in versions[1:]]
    assert released == sorted(released, reverse=True), "newest first"
    kinds = set(re.findall(r"^### (\w+)", text, flags=re.M))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_pre_commit_runs_the_checks_make_test_runs() -> None:
    hooks = {
        h["id"]: h
        for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
        for h in repo["hooks"]
    }
    assert set(hooks) == {"ruff-check", "ruff-format", "mypy"}
    make_test = re.search(r"^test: .*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M)
    assert make_test
    for hook in hooks.values():
        tool = hook["entry"].split()[0].removeprefix(".venv/bin/")
        assert f"$(BIN)/{tool}" in make_test.group(1), f"{hook['id']}: make test does not run {tool}"
        assert any(dep.startswith(tool) for dep in PROJECT["optional-dependencies"]["test"]), f"{tool} is not installed"
