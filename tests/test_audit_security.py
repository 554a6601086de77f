"""The audit trail against someone who wants to fool it (issue 8, section 4): each test tries the attack.

One `kpi run` of three demo departments is made per module (`world`): cs-east as
the demo has it; cs-west reads its complaints through an adapter (which leaves a
marker file whenever it is imported) from `a/tickets.csv`, and its feedback from
`b/tickets.csv` (the same base name in another folder); cs-north fails at its
params. Each test tampers with its own copy of the outputs.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from kpi_lib import AuditError, DataError, ParamsError, Period, TemplateError, appraise, load_params
from kpi_lib.audit.trail import MANIFEST, SIGNOFFS, canonical, keep_history, recorded_inputs, snapshot_inputs
from kpi_lib.base.files import sha256_file
from kpi_lib.base.messages import LANGS, say
from kpi_lib.inputs.snapshot import read_frame, write_frame
from kpi_lib.inputs.tables import DataFolder

from .conftest import Company, kpi

PERIOD = "2026-Q4"
ADAPTER = '''"""Test adapter: leaves a line in a marker file whenever it is imported."""
from pathlib import Path

with Path({marker!r}).open("a", encoding="utf-8") as handle:
    handle.write("imported\\n")


def adapt(raw, options):
    frame = raw.copy()
    codes = {{"Y": True, "N": False, "": None}}
    frame["satisfied"] = [codes.get(v, v) for v in frame.pop("Happy")]
    return frame
'''


def no_crash(result: subprocess.CompletedProcess[str]) -> None:
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@dataclass
class World:
    """The pristine run: never modified by a test (copy `out` with `tree`)."""

    root: Path
    out: Path
    marker: Path

    @property
    def params(self) -> Path:
        return self.root / "params"


@pytest.fixture(scope="module")
def world(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("security")
    shutil.copytree(demo_dir, root, dirs_exist_ok=True)
    data = root / "data" / "demo"
    complaints = pd.read_csv(data / "complaints.csv", dtype=str, keep_default_na=False)
    complaints = complaints.rename(columns={"satisfied": "Happy"})
    complaints["Happy"] = complaints["Happy"].map({"yes": "Y", "no": "N", "": ""})
    (data / "a").mkdir()
    complaints.to_csv(data / "a" / "tickets.csv", index=False)
    (data / "b").mkdir()
    shutil.copy(data / "feedback.csv", data / "b" / "tickets.csv")
    marker = root / "marker.txt"
    (root / "params" / "adapters").mkdir()
    (root / "params" / "adapters" / "happy.py").write_text(ADAPTER.format(marker=str(marker)), encoding="utf-8")
    west = root / "params" / "cs-west.yaml"
    tables = {
        "complaints": {"file": "a/tickets.csv", "adapter": "adapters/happy.py:adapt"},
        "feedback": {"file": "b/tickets.csv"},
    }
    west.write_text(
        west.read_text(encoding="utf-8") + yaml.safe_dump({"tables": tables}, sort_keys=False), encoding="utf-8"
    )
    north = root / "params" / "cs-north.yaml"  # fails at its params: a failed department verifies too
    north.write_text(
        north.read_text(encoding="utf-8").replace("CS01: {weight: 5,", "CS01: {weight: 6,"), encoding="utf-8"
    )
    out = root / "outputs"
    result = kpi(
        "run",
        str(root / "params" / "cs-east.yaml"),
        str(west),
        str(north),
        "--period",
        PERIOD,
        "--out",
        str(out),
        "--jobs",
        "2",
    )
    assert result.returncode == 1 and "cs-north failed" in result.stderr and "weights sum to 101" in result.stderr, (
        result.stderr
    )
    assert (out / PERIOD / "cs-east" / "result.json").is_file() and (out / PERIOD / "cs-west" / "result.json").is_file()
    assert marker.read_text(encoding="utf-8").count("imported") >= 1  # the adapter ran inside kpi run
    marker.unlink()
    return World(root, out, marker)


@pytest.fixture
def tree(world: World, tmp_path: Path) -> Path:
    """A private copy of the run's outputs/<period> (its manifests still point at the pristine data and params)."""
    target = tmp_path / "outputs"
    shutil.copytree(world.out, target)
    return target / PERIOD


def rehash_period(period: Path, *, files: bool = True) -> None:
    """What a careful forger does after editing: make the period manifest agree with the folders again."""
    manifest = json.loads((period / MANIFEST).read_text(encoding="utf-8"))
    for name in manifest["departments"]:
        if (period / name / MANIFEST).is_file():
            manifest["departments"][name] = sha256_file(period / name / MANIFEST)
    if files:
        for name in manifest["files"]:
            manifest["files"][name] = sha256_file(period / name)
    (period / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def rehash_department(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for rel in manifest["outputs"]:
        if (folder / rel).is_file():
            manifest["outputs"][rel] = sha256_file(folder / rel)
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


# -- 1. verify never executes code ----------------------------------------------------------
@pytest.mark.slow
def test_verify_and_diff_never_import_the_adapter(world: World, tree: Path) -> None:
    checked = kpi("verify", str(tree), "--recompute")
    assert checked.returncode == 0, checked.stderr
    assert "every score recomputed" in checked.stdout
    explained = kpi("diff", str(tree / "cs-west"), str(tree / "cs-west"))
    assert explained.returncode == 0, explained.stderr
    assert not world.marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "attack",
    ["replace the adapter's copy", "point the recorded params at other code", "drop the recorded adapter output"],
)
def test_recompute_never_runs_recorded_code(world: World, tree: Path, attack: str) -> None:
    inputs = tree / "cs-west" / "inputs"
    evil = f"from pathlib import Path\nPath({str(world.marker)!r}).write_text('pwned')\ndef adapt(raw, options):\n    return raw\n"
    if attack == "replace the adapter's copy":
        (inputs / "adapters" / "adapters" / "happy.py").write_text(
            evil, encoding="utf-8"
        )  # adapters/happy.py beside the params
    elif attack == "point the recorded params at other code":
        (inputs / "evil.py").write_text(evil, encoding="utf-8")
        params = inputs / "params.yaml"
        params.write_text(
            params.read_text(encoding="utf-8").replace("adapters/happy.py:adapt", "evil.py:adapt"), encoding="utf-8"
        )
    else:  # the frame the adapter returned, kept in the period's store
        manifest = json.loads((tree / "cs-west" / MANIFEST).read_text(encoding="utf-8"))
        (kept,) = [e["stored"] for e in manifest["inputs"]["adapted"] if e["table"] == "complaints"]
        (tree / ".sources" / kept).unlink()
    result = kpi("verify", str(tree), "--recompute")
    no_crash(result)
    assert result.returncode == 1
    assert not world.marker.exists()
    if attack == "replace the adapter's copy":
        assert "inputs/adapters/adapters/happy.py: recorded input copy changed" in result.stderr
    elif attack == "point the recorded params at other code":
        assert (
            "inputs/params.yaml: recorded input copy changed" in result.stderr
            and "inputs/evil.py: recorded input added" in result.stderr
        )
    else:
        assert "stored source of complaints deleted" in result.stderr
        assert "cannot recompute" in result.stderr and "the stored source of complaints cannot be read" in result.stderr


@pytest.mark.slow
def test_the_manifest_hashes_the_adapter_and_what_it_returned(world: World, tree: Path) -> None:
    manifest = json.loads((tree / "cs-west" / MANIFEST).read_text(encoding="utf-8"))
    adapter = world.params / "adapters" / "happy.py"
    code = [t for t in manifest["inputs"]["tables"] if t.get("role") == "adapter"]
    assert code == [
        {
            "table": "complaints",
            "role": "adapter",
            "path": str(adapter.resolve()),
            "sha256": sha256_file(adapter),
            "copy": "inputs/adapters/adapters/happy.py",
        }
    ]
    (kept,) = manifest["inputs"]["adapted"]
    assert kept["table"] == "complaints" and kept["adapter_sha256"] == sha256_file(adapter)
    assert kept["sha256"] == sha256_file(tree / ".sources" / kept["stored"])  # kept once for the period
    frame = read_frame(tree / ".sources" / kept["stored"])
    assert "Happy" not in frame.columns and {type(v) for v in frame["satisfied"]} <= {bool, type(None)}
    assert list(frame.index[:3]) == [0, 1, 2]  # the raw frame's index: row numbers still point at the file


def write_adapter(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\ndef adapt(raw, options):\n    return raw\n",
        encoding="utf-8",
    )


@pytest.mark.slow
@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink out", "inside (allowed)"])
def test_adapters_run_only_from_the_params_folder(
    company: Company, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert elsewhere.parent == company.root.parent  # siblings: ../<elsewhere> leaves the params folder
    marker = elsewhere / "marker.txt"
    write_adapter(elsewhere / "x.py", marker)
    write_adapter(company.root / "sub" / "x.py", marker)
    (company.root / "link.py").symlink_to(elsewhere / "x.py")
    adapter = {
        "absolute": str(elsewhere / "x.py"),
        "dotdot": f"../{elsewhere.name}/x.py",
        "symlink out": "link.py",
        "inside (allowed)": "sub/x.py",
    }[where]
    shutil.copy(company.data / "complaints.csv", company.data / "tickets.csv")
    params = company.params(tables={"complaints": {"file": "tickets.csv", "adapter": f"{adapter}:adapt"}})
    for command in (["score", str(params), "--period", PERIOD, "--json"], ["validate", str(params)]):
        result = kpi(*command)
        no_crash(result)
        if where == "inside (allowed)":
            assert result.returncode == 0, result.stderr
            assert marker.exists()
            continue
        assert result.returncode == 1
        assert (
            f"tables.complaints.adapter: {adapter!r}" in result.stderr
            and "expected a .py file in the params file's folder" in result.stderr
        )
        assert not marker.exists()


# -- 2. paths stay inside their folders -----------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "attack",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "symlink out of the data folder",
        "unmapped table file linked out",
        "inside (allowed)",
    ],
)
def test_table_files_stay_inside_the_data_folder(company: Company, tmp_path: Path, attack: str) -> None:
    outside = tmp_path / "outside" / "complaints.csv"
    outside.parent.mkdir()
    shutil.copy(company.data / "complaints.csv", outside)
    tables: dict[str, Any] = {}
    if attack in ("../../etc/passwd", "/etc/passwd"):
        tables = {"complaints": {"file": attack}}
    elif attack == "symlink out of the data folder":
        (company.data / "exports").mkdir()
        (company.data / "exports" / "tickets.csv").symlink_to(outside)
        tables = {"complaints": {"file": "exports/tickets.csv"}}
    elif attack == "unmapped table file linked out":
        (company.data / "complaints.csv").unlink()
        (company.data / "complaints.csv").symlink_to(outside)
    else:
        (company.data / "exports").mkdir()
        shutil.copy(company.data / "complaints.csv", company.data / "exports" / "real.csv")
        (company.data / "exports" / "tickets.csv").symlink_to(company.data / "exports" / "real.csv")
        tables = {"complaints": {"file": "exports/tickets.csv"}}
    params = company.params(tables=tables) if tables else company.params()
    result = kpi("score", str(params), "--period", PERIOD, "--json")
    no_crash(result)
    department = load_params(params)
    copies = DataFolder.of(department).files("complaints")
    if attack == "inside (allowed)":
        assert result.returncode == 0, result.stderr
        assert copies == [company.data / "exports" / "tickets.csv"]
        return
    assert result.returncode == 1 and not copies  # refused, and a run's snapshot copies nothing from outside
    if attack == "unmapped table file linked out":
        assert f"{company.data / 'complaints.csv'}: resolves to {outside}, outside the data folder" in result.stderr
    else:
        shown = attack if attack.startswith(("/", "..")) else "exports/tickets.csv"
        assert (
            f"{company.data}: tables.complaints.file: {shown!r}" in result.stderr
            and "expected a path inside the data folder" in result.stderr
        )


@pytest.mark.slow
@pytest.mark.parametrize("template_id", ["../x", "A B", "x/y", "", "cs\n", "..", "中文"])
def test_template_import_accepts_only_plain_ids(tmp_path: Path, template_id: str) -> None:
    from .conftest import SPEC_INDICATORS
    from .test_importer import write_sheet

    sheet = tmp_path / "sheet" / "kpi.xlsx"
    sheet.parent.mkdir()
    write_sheet(sheet, {"indicators": SPEC_INDICATORS})
    out = tmp_path / "sheet" / "out"
    result = kpi("template", "import", str(sheet), "--out", str(out), "--id", template_id)
    no_crash(result)
    assert (
        result.returncode == 2
        and "--id" in result.stderr
        and "lowercase letters, digits, - and _ only" in result.stderr
    )
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["kpi.xlsx"]  # nothing written, anywhere


@pytest.mark.parametrize("kind", ["group", "table"])
def test_template_names_that_become_paths_are_plain(tmp_path: Path, kind: str) -> None:
    from kpi_lib.inputs.template import load_template, template_path

    document = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
    if kind == "group":
        document["groups"]["../../evil"] = {"zh": "x", "en": "x"}
    else:
        document["tables"]["../evil"] = copy.deepcopy(document["tables"]["complaints"])
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        TemplateError, match=rf"{kind} '(\.\./)+evil': expected a name of lowercase letters, digits, - and _ only"
    ):
        load_template(str(path))


def test_a_department_id_with_a_trailing_newline_is_refused(company: Company) -> None:
    with pytest.raises(ParamsError, match="department: found 'cs-test\\\\n', expected an id of lowercase letters"):
        load_params(company.params(department="cs-test\n"))


def test_a_history_entry_is_named_from_digits_only(tmp_path: Path) -> None:
    old, new = tmp_path / "p" / "cs-east", tmp_path / "p" / ".staging-cs-east"
    old.mkdir(parents=True)
    new.mkdir()
    (old / MANIFEST).write_text(json.dumps({"created": "../../../../escaped"}), encoding="utf-8")
    target = keep_history(old, new)
    assert target.parent == new / "history" and target.name and not (tmp_path / "escaped").exists()
    assert (target / MANIFEST).is_file()


# -- 3. folder identity, every result recomputed, summaries value by value -----------------
def swap(a: Path, b: Path) -> None:
    parked = a.with_name("parked")
    a.rename(parked)
    b.rename(a)
    parked.rename(b)


@pytest.mark.slow
@pytest.mark.parametrize("rehash", [False, True], ids=["as swapped", "period manifest re-hashed"])
def test_swapped_department_folders_are_caught(tree: Path, rehash: bool) -> None:
    swap(tree / "cs-east", tree / "cs-west")
    if rehash:
        rehash_period(tree)
    result = kpi("verify", str(tree))
    no_crash(result)
    assert result.returncode == 1
    assert f"{tree / 'cs-east' / MANIFEST}: records department 'cs-west', but the folder is 'cs-east'" in result.stderr
    assert f"{tree / 'cs-west' / 'result.json'}: department 'cs-east', but the folder is 'cs-west'" in result.stderr
    assert f"{tree / 'summary.csv'}: " in result.stderr  # the summaries still show the departments as they were


@pytest.mark.slow
def test_a_department_moved_to_another_period_is_caught(tree: Path) -> None:
    moved = tree.with_name("2026-Q3")
    tree.rename(moved)
    manifest = json.loads((moved / MANIFEST).read_text(encoding="utf-8"))
    manifest["period"] = "2026-Q3"
    (moved / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = kpi("verify", str(moved))
    no_crash(result)
    assert result.returncode == 1
    assert f"{moved / 'cs-east' / MANIFEST}: records period '2026-Q4', but the folder is in '2026-Q3'" in result.stderr


@pytest.mark.slow
def test_a_failed_department_with_a_forged_result_is_recomputed(tree: Path) -> None:
    folder = tree / "cs-east"
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    result["total"] = 99.5
    (folder / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["status"] = "failed"
    manifest["outputs"]["result.json"] = sha256_file(folder / "result.json")
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    rehash_period(tree)
    caught = kpi("verify", str(tree), "--recompute")
    no_crash(caught)
    assert caught.returncode == 1
    assert (
        f"{folder / 'result.json'}: total recorded 99.5, recomputed" in caught.stderr
    )  # recomputed although the manifest says failed
    assert "present, but the manifest says the department failed" in caught.stderr


def edit_csv(path: Path, department: str, column: str, value: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    rows = [line.split(",") for line in text.splitlines()]
    at = rows[0].index(column)
    for row in rows[1:]:
        if row[1] == department:
            row[at] = value
    path.write_text("\ufeff" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")


def edit_xlsx(path: Path, department: str, header: str, value: Any) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    names = {say(f"summary.{header}", lang) for lang in LANGS}  # the header in the company's language
    column = next(c.column for c in sheet[1] if c.value in names)
    for row in sheet.iter_rows(min_row=2):
        if row[1].value == department:
            sheet.cell(row=row[0].row, column=column, value=value)
    book.save(path)


def edit_index(path: Path, department: str, what: str, value: str) -> None:
    import re

    page = path.read_text(encoding="utf-8")
    row = re.search(
        rf"<tr><td class=num>\d+</td><td>[^<]*(?:<br><small class=signoff>[^<]*</small>)?</td><td><code>{department}</code></td><td class=num><b>([^<]*)</b></td><td>([^<]*)</td>",
        page,
    )
    assert row is not None
    start, end = row.span(1) if what == "total" else row.span(2)
    path.write_text(page[:start] + value + page[end:], encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "what"),
    [
        ("summary.csv", "total"),
        ("summary.csv", "grade"),
        ("summary.csv", "CS04 score"),
        ("summary.csv", "department list"),
        ("summary.csv", "failed department"),
        ("summary.xlsx", "total"),
        ("summary.xlsx", "grade"),
        ("index.html", "total"),
        ("index.html", "grade"),
        ("index.html", "department list"),
    ],
)
def test_summary_files_are_checked_value_by_value(tree: Path, file: str, what: str) -> None:
    path = tree / file
    west = json.loads((tree / "cs-west" / "result.json").read_text(encoding="utf-8"))
    other_grade = "E" if west["grade"] != "E" else "A"
    if file == "summary.csv":
        if what == "failed department":
            edit_csv(path, "cs-north", "total", "95.00")
        elif what == "department list":
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            path.write_text(
                "\ufeff" + "\n".join(line for line in lines if ",cs-west," not in line) + "\n", encoding="utf-8"
            )
        else:
            column = {"total": "total", "grade": "grade", "CS04 score": "CS04"}[what]
            edit_csv(
                path,
                "cs-west",
                column,
                {"total": f"{west['total'] + 0.01:.2f}", "grade": other_grade, "CS04 score": "100.00"}[what],
            )
    elif file == "summary.xlsx":
        edit_xlsx(path, "cs-west", what, west["total"] + 0.01 if what == "total" else other_grade)
    elif what == "department list":
        path.write_text(
            path.read_text(encoding="utf-8").replace("<code>cs-west</code>", "<code>cs-south</code>"), encoding="utf-8"
        )
    else:
        edit_index(path, "cs-west", what, f"{west['total'] + 0.01:.2f}" if what == "total" else f"{other_grade} x")
    rehash_period(tree)
    result = kpi("verify", str(tree))
    no_crash(result)
    assert result.returncode == 1
    if what == "department list":
        assert f"{path}: lists departments" in result.stderr
    elif what == "failed department":
        assert (
            f"{path}: cs-north total is 95.00, but cs-north failed (error.txt, no result.json), so its total is (empty)"
            in result.stderr
        )
    else:
        assert f"{path}: cs-west {what} is" in result.stderr and "but cs-west/result.json gives" in result.stderr


# -- 4. sign-off records: the whole record is signed, the log may hold garbage --------------
@dataclass
class Signed:
    period: Path
    public: Path
    other_public: Path


def keypair(folder: Path, name: str) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture(scope="module")
def signed(world: World, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """The run with cs-east signed twice (manager, then supervisor) with one Ed25519 key."""
    root = tmp_path_factory.mktemp("signed")
    shutil.copytree(world.out, root / "outputs")
    private, public = keypair(root, "key")
    _, other = keypair(root, "other")
    dept = root / "outputs" / PERIOD / "cs-east"
    for role, name in (("manager", "王经理"), ("supervisor", "Li Zhu")):
        done = kpi("sign", str(dept), "--role", role, "--name", name, "--comment", "同意", "--key", str(private))
        assert done.returncode == 0, done.stderr
    return Signed(root / "outputs" / PERIOD, public, other)


@pytest.fixture
def signed_tree(signed: Signed, tmp_path: Path) -> Path:
    target = tmp_path / "outputs"
    shutil.copytree(signed.period.parent, target)
    return target / PERIOD


def log_of(period: Path) -> Path:
    return period / "cs-east" / SIGNOFFS


@pytest.mark.slow
def test_a_signed_log_verifies_and_its_signature_covers_the_canonical_record(signed: Signed) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    result = kpi("verify", str(signed.period), "--pubkey", str(signed.public))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Ed25519 signature ok") == 2
    key = load_pem_public_key(signed.public.read_bytes())
    for line in log_of(signed.period).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        body = {k: v for k, v in record.items() if k != "signature"}
        documented = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        assert documented == canonical(record)
        key.verify(base64.b64decode(record["signature"]), documented)  # type: ignore[union-attr,call-arg]
    assert kpi("verify", str(signed.period), "--pubkey", str(signed.other_public)).returncode == 1


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "seq": lambda r: r.update(seq=r["seq"] + 1),
    "role": lambda r: r.update(role="manager" if r["role"] == "supervisor" else "supervisor"),
    "name": lambda r: r.update(name=r["name"] + "x"),
    "time": lambda r: r.update(time="2020-01-01T00:00:00"),
    "comment": lambda r: r.update(comment="不同意"),
    "manifest_sha256": lambda r: r.update(manifest_sha256="0" * 64),
    "prev_sha256": lambda r: r.update(prev_sha256="0" * 64),
    "views": lambda r: r["views"].update({"scorecard.html": "0" * 64}),
    "public_key": lambda r: r.update(public_key=r["public_key"].replace("MCowBQYDK2VwAyEA", "MCowBQYDK2VwAyEB")),
}


@pytest.mark.slow
@pytest.mark.parametrize("line", [1, 2])
@pytest.mark.parametrize("edited", list(EDITS))
def test_editing_any_field_of_a_signed_record_breaks_it(
    signed: Signed, signed_tree: Path, edited: str, line: int
) -> None:
    log = log_of(signed_tree)
    lines = log.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line - 1])
    EDITS[edited](record)
    lines[line - 1] = json.dumps(record, ensure_ascii=False, sort_keys=True)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for extra in (["--pubkey", str(signed.public)], []):  # against the trusted key, and against the key in the record
        result = kpi("verify", str(signed_tree), *extra)
        no_crash(result)
        assert result.returncode == 1
        verdict = next(v for v in result.stderr.splitlines() if f"signature {line} (" in v)
        assert ": broken: " in verdict and "Ed25519 signature does not match" in verdict, verdict


GARBAGE = {
    "not JSON": (b"{not json", "not JSON"),
    "a JSON list": (b"[1, 2]", "not a sign-off record (a JSON list, expected an object)"),
    "a JSON string": (b'"signed"', "not a sign-off record (a JSON str, expected an object)"),
    "an empty object": (b"{}", "missing field(s) seq, role, name, time, comment, manifest_sha256, prev_sha256, views"),
    "an unknown role": (
        b'{"seq": 3, "role": "king", "name": "x", "time": "t", "comment": "", "manifest_sha256": "0", "prev_sha256": null, "views": {}}',
        "role 'king' is not one of",
    ),
    "a bad name": (
        b'{"seq": 3, "role": "manager", "name": "a\\nb", "time": "t", "comment": "", "manifest_sha256": "0", "prev_sha256": null, "views": {}}',
        "name holds the control character U+000A",
    ),
    "wrong types": (
        b'{"seq": "3", "role": "manager", "name": "x", "time": 5, "comment": [], "manifest_sha256": null, "prev_sha256": 1, "views": []}',
        "seq is not a number",
    ),
    "not UTF-8": (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    "nested too deep": (b"[" * 100000, "not JSON"),
    "an empty line": (b"", "not JSON"),
}


@pytest.mark.slow
@pytest.mark.parametrize("position", ["first", "last"])
@pytest.mark.parametrize("garbage", list(GARBAGE))
def test_a_garbage_line_in_the_sign_off_log_is_named_and_verification_goes_on(
    signed_tree: Path, garbage: str, position: str
) -> None:
    data, reason = GARBAGE[garbage]
    log = log_of(signed_tree)
    lines = log.read_bytes().rstrip(b"\n").split(b"\n")
    at = {"first": 0, "last": len(lines)}[position]
    lines.insert(at, data)
    log.write_bytes(b"\n".join(lines) + b"\n")
    west = signed_tree / "cs-west" / "service.html"
    west.write_text(west.read_text(encoding="utf-8") + " ", encoding="utf-8")  # another department's own change
    result = kpi("verify", str(signed_tree))
    no_crash(result)
    assert result.returncode == 1
    assert f"{log}: line {at + 1}: broken: {reason}" in result.stderr or (
        f"signature {at + 1} (" in result.stderr and reason in result.stderr
    ), result.stderr
    assert f"{west}: output changed" in result.stderr  # the rest of the verification went on
    if position == "first":
        refused = kpi("sign", str(signed_tree / "cs-east"), "--role", "manager", "--name", "M")
        no_crash(refused)
        assert refused.returncode == 1 and f"line {at + 1}" in refused.stderr and "refusing to sign" in refused.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("王\n经理", "control character U+000A"),
        ("Wang\rLi", "control character U+000D"),
        ("Wang\tLi", "control character U+0009"),
        ("\u202eilA", "control character U+202E"),
        ("x" * 65, "has 65 characters; expected at most 64"),
        ("王" * 65, "has 65 characters; expected at most 64"),
    ],
)
def test_signer_names_are_one_short_line(tree: Path, name: str, expected: str) -> None:
    result = kpi("sign", str(tree / "cs-east"), "--role", "manager", "--name", name)
    no_crash(result)
    assert result.returncode == 2 and "--name" in result.stderr and expected in result.stderr, result.stderr
    assert not (tree / "cs-east" / SIGNOFFS).exists()


@pytest.mark.slow
def test_an_unknown_role_is_a_usage_error(tree: Path) -> None:
    result = kpi("sign", str(tree / "cs-east"), "--role", "ceo", "--name", "M")
    assert (
        result.returncode == 2
        and "--role 'ceo': expected one of the template's roles, in signing order: manager (部门经理), supervisor"
        in result.stderr
    )


@pytest.mark.slow
def test_a_64_character_name_signs_and_verifies(tree: Path) -> None:
    name = "王" * 60 + "Li Z"
    assert kpi("sign", str(tree / "cs-east"), "--role", "manager", "--name", name).returncode == 0
    result = kpi("verify", str(tree))
    assert result.returncode == 0, result.stderr
    assert json.loads(log_of(tree).read_text(encoding="utf-8"))["name"] == name


# -- 2. no crash: a corrupt file of one department is named, the others are verified ------
CORRUPT: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "result.json not JSON": (
        "result.json",
        lambda p: p.write_text("{not json", encoding="utf-8"),
        "result.json: not valid JSON",
    ),
    "result.json a list": (
        "result.json",
        lambda p: p.write_text("[]", encoding="utf-8"),
        "result.json: expected a JSON object, found list",
    ),
    "result.json deleted": ("result.json", lambda p: p.unlink(), "result.json: output deleted"),
    "manifest not JSON": (MANIFEST, lambda p: p.write_bytes(b"\x00\xff garbage"), "manifest.json: not valid JSON"),
    "manifest a list": (
        MANIFEST,
        lambda p: p.write_text("[1]", encoding="utf-8"),
        "manifest.json: expected a JSON object, found list",
    ),
    "manifest deleted": (MANIFEST, lambda p: p.unlink(), "manifest.json: manifest deleted or never written"),
    "manifest wrong types": (
        MANIFEST,
        lambda p: p.write_text(
            json.dumps({**json.loads(p.read_text(encoding="utf-8")), "inputs": "x", "outputs": [1], "views": None}),
            encoding="utf-8",
        ),
        "manifest.json: inputs is not a mapping",
    ),
    "manifest names a path outside": (
        MANIFEST,
        lambda p: p.write_text(
            json.dumps({**json.loads(p.read_text(encoding="utf-8")), "outputs": {"../../../../etc/passwd": "0"}}),
            encoding="utf-8",
        ),
        "outputs names '../../../../etc/passwd', which is not a file inside",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_file_of_one_department_is_named_and_the_others_are_verified(tree: Path, case: str) -> None:
    name, damage, expected = CORRUPT[case]
    damage(tree / "cs-east" / name)
    west = tree / "cs-west" / "cost.html"
    west.write_text(west.read_text(encoding="utf-8") + " ", encoding="utf-8")
    result = kpi("verify", str(tree), "--recompute")
    no_crash(result)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert f"{west}: output changed" in result.stderr


# -- 5. snapshot copies never collide --------------------------------------------------------
@pytest.mark.slow
def test_two_exports_with_the_same_base_name_are_both_kept(world: World, tree: Path) -> None:
    data = world.root / "data" / "demo"
    manifest = json.loads((tree / "cs-west" / MANIFEST).read_text(encoding="utf-8"))
    files = {t["table"]: t for t in manifest["inputs"]["tables"] if t.get("role") == "file"}
    assert files["complaints"]["rel"] == "a/tickets.csv" and files["feedback"]["rel"] == "b/tickets.csv"
    for table, rel in (("complaints", "a/tickets.csv"), ("feedback", "b/tickets.csv")):
        assert sha256_file(tree / ".sources" / files[table]["stored"]) == sha256_file(data / rel)
    with recorded_inputs(tree / "cs-west") as (department, _):
        recorded = DataFolder.of(department)
        live = DataFolder.of(load_params(world.params / "cs-west.yaml"))
        pd.testing.assert_frame_equal(recorded.table("feedback").frame, live.table("feedback").frame)
        complaints = recorded.table("complaints")  # read from the adapter's recorded output, not by running it
        assert not complaints.problems and len(complaints.frame) == len(pd.read_csv(data / "a" / "tickets.csv"))
    assert not world.marker.exists()


def test_snapshot_inputs_mirrors_paths_and_recompute_finds_them(company: Company, tmp_path: Path) -> None:
    for folder, table in (("a", "complaints"), ("b", "feedback")):
        (company.data / folder).mkdir()
        shutil.copy(company.data / f"{table}.csv", company.data / folder / "tickets.csv")
    company.table(
        "complaints",
        [
            {
                "complaint_id": "K1",
                "received_at": "2026-10-02 10:00",
                "resolved_at": "2026-10-03 10:00",
                "satisfied": "yes",
            }
        ],
    )
    shutil.copy(company.data / "complaints.csv", company.data / "a" / "tickets.csv")
    params = company.params(tables={"complaints": {"file": "a/tickets.csv"}, "feedback": {"file": "b/tickets.csv"}})
    department = load_params(params)
    out = tmp_path / "run"
    section = snapshot_inputs(department, Period.parse(PERIOD), out)
    kept = sorted(t["rel"] for t in section["tables"])
    assert "a/tickets.csv" in kept and "b/tickets.csv" in kept
    (out / MANIFEST).write_text(json.dumps({"inputs": section}), encoding="utf-8")
    with recorded_inputs(out) as (recorded, _):
        expected = appraise(department, Period.parse(PERIOD)).to_json()
        assert appraise(recorded, Period.parse(PERIOD)).to_json() == expected


# -- the exact Parquet copy of an adapter's frame --------------------------------------------
CELLS = {
    "text": ["a", "", None, "  spaced ", "中文"],
    "ints": [1, -2, 0, 10**18, None],
    "floats": [1.5, float("nan"), float("inf"), -0.0, 0.1 + 0.2],
    "bools": [True, False, None, True, False],
    "decimals": [Decimal("1.50"), Decimal("-0"), Decimal("1E+3"), Decimal("NaN"), None],
    "timestamps": [
        pd.Timestamp("2026-10-01 09:30"),
        pd.Timestamp("2026-10-01 09:30", tz="Asia/Shanghai"),
        pd.NaT,
        pd.Timestamp("2026-10-01 09:30:00.123456789"),
        None,
    ],
    "datetimes": [datetime(2026, 10, 1, 9, 30), date(2026, 10, 1), time(9, 30), None, pd.NA],
    "numpy": [np.int64(3), np.float64(2.5), np.bool_(True), np.datetime64("2026-10-01T09:30"), np.str_("x")],
    "mixed": ["1", 1, 1.0, True, Decimal("1")],
}


@pytest.mark.parametrize("column", list(CELLS))
@pytest.mark.parametrize("index", ["range", "filtered", "object"])
def test_an_adapters_frame_is_kept_exactly(tmp_path: Path, column: str, index: str) -> None:
    cells = CELLS[column]
    labels = {"range": list(range(5)), "filtered": [3, 7, 8, 20, 400], "object": ["a", "b", 1, "d", "e"]}[index]
    at = pd.Index(labels, dtype=object if index == "object" else "int64")
    frame = pd.DataFrame({column: pd.Series(cells, dtype=object, index=at), 2026: pd.Series(["x"] * 5, index=at)})
    write_frame(frame, tmp_path / "f.parquet", what="test")
    back = read_frame(tmp_path / "f.parquet")
    assert list(back.columns) == [column, 2026] and list(back.index) == labels
    assert pd.api.types.is_integer_dtype(back.index) == (index != "object")
    for a, b in zip(frame[column].tolist(), back[column].tolist(), strict=True):
        a = (
            a.item()
            if isinstance(a, np.generic) and not isinstance(a, np.datetime64)
            else pd.Timestamp(a)
            if isinstance(a, np.datetime64)
            else a
        )
        assert type(a) is type(b) and (str(a) == str(b)), (a, b)


@pytest.mark.parametrize("cell", [[1], {"a": 1}, object(), b"bytes", 1 + 2j])
def test_a_frame_with_other_cells_is_refused(tmp_path: Path, cell: object) -> None:
    with pytest.raises(
        AuditError,
        match=r"column 'c', index 1: a cell of type \w+; expected text, numbers, booleans, dates or timestamps",
    ):
        write_frame(
            pd.DataFrame({"c": ["ok", cell]}), tmp_path / "f.parquet", what="adapter x.py:adapt of table complaints"
        )


def test_a_parquet_file_that_is_not_a_frame_snapshot_is_refused(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(AuditError, match="not a frame snapshot written by kpi run"):
        read_frame(tmp_path / "plain.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 junk")
    with pytest.raises(AuditError, match="not a readable Parquet file"):
        read_frame(tmp_path / "junk.parquet")


def test_verify_refuses_to_load_an_adapter(company: Company) -> None:
    from kpi_lib.inputs.sources import load_adapter, no_code

    (company.root / "x.py").write_text("raise SystemExit('imported')\n", encoding="utf-8")
    with no_code("kpi verify"), pytest.raises(AuditError, match="kpi verify executes no code"):
        load_adapter(company.root / "x.py", "adapt")


def test_data_error_names_a_refused_file_in_python_too(company: Company) -> None:
    params = company.params(tables={"complaints": {"file": "../outside.csv"}})
    with pytest.raises(DataError, match=r"tables.complaints.file: '../outside.csv' climbs out with '..'"):
        appraise(load_params(params), Period.parse(PERIOD))
    assert os.path.exists(params)


@pytest.mark.slow
def test_template_import_of_a_missing_sheet_is_a_usage_error(tmp_path: Path) -> None:
    from .conftest import SPEC_INDICATORS
    from .test_importer import write_sheet

    write_sheet(tmp_path / "kpi.xlsx", {"indicators": SPEC_INDICATORS})
    result = kpi("template", "import", str(tmp_path / "kpi.xlsx"), "--out", str(tmp_path / "out"), "--sheet", "Nope")
    no_crash(result)
    assert result.returncode == 2 and "no sheet 'Nope'; the workbook has '客服部'" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        (MANIFEST, "{oops", "manifest.json: not valid JSON"),
        (MANIFEST, '{"period": "2026-Q4"}', "manifest.json: no department; expected a manifest written by kpi run"),
        ("result.json", '{"total": 1}', "result.json: expected the object kpi score --json prints"),
        (MANIFEST, None, "inputs.tables has an entry without table, path and sha256"),
    ],
)
def test_kpi_diff_names_a_damaged_run(tree: Path, file: str, content: str | None, expected: str) -> None:
    target = tree / "cs-east" / file
    if content is None:
        manifest = json.loads(target.read_text(encoding="utf-8"))
        manifest["inputs"]["tables"].append({"table": 5})
        content = json.dumps(manifest)
    target.write_text(content, encoding="utf-8")
    result = kpi("diff", str(tree / "cs-east"), str(tree / "cs-west"))
    no_crash(result)
    # a damaged run is verified first and its numbers are not shown; the damage is named (the file, or verify's words)
    assert result.returncode == 1, result.stderr
    assert f"{tree / 'cs-east'}: fails verification, so its numbers are not shown" in result.stderr
    assert expected in result.stderr or f"{target}:" in result.stderr, result.stderr


# -- red-team round 2: presentation, layout, links, odd files, odd numbers -------------------
@pytest.mark.slow
def test_the_untouched_run_verifies_with_its_summaries_rendered_again(tree: Path) -> None:
    result = kpi("verify", str(tree), "--recompute")
    no_crash(result)
    assert result.returncode == 0, (
        result.stderr
    )  # cs-north failed at its params and verifies as failed; the summaries match their rendering
    assert "every score recomputed" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "attack", ["index css", "index text", "xlsx number format", "xlsx conditional format", "csv spacing"]
)
def test_a_summary_that_shows_other_numbers_is_caught(tree: Path, attack: str) -> None:
    """The stored values stay right; what a reader sees does not (a style, a number format), and the manifest is re-hashed."""
    if attack.startswith("index"):
        page = (tree / "index.html").read_text(encoding="utf-8")
        edited = (
            page.replace(
                "</style>", "td.num b {font-size: 0} td.num b::after {content: '95.00'; font-size: 16px}</style>", 1
            )
            if attack == "index css"
            else page.replace("<p class=lead>", "<p class=lead>(approved 已批准) ", 1)
        )
        assert edited != page
        (tree / "index.html").write_text(edited, encoding="utf-8")
    elif attack.startswith("xlsx"):
        import openpyxl
        from openpyxl.formatting.rule import CellIsRule
        from openpyxl.styles import Font

        book = openpyxl.load_workbook(tree / "summary.xlsx")
        sheet = book.active
        if attack == "xlsx number format":
            sheet["F2"].number_format = '"95.00"'
        else:
            sheet.conditional_formatting.add(
                "F2:F9", CellIsRule(operator="lessThan", formula=["90"], font=Font(color="FFFFFF"))
            )
        book.save(tree / "summary.xlsx")
    else:
        (tree / "summary.csv").write_bytes((tree / "summary.csv").read_bytes().replace(b",", b", ", 1))
    rehash_period(tree)
    result = kpi("verify", str(tree))
    no_crash(result)
    assert result.returncode == 1
    assert any(name in result.stderr for name in ("index.html", "summary.xlsx", "summary.csv")), result.stderr


@pytest.mark.slow
def test_a_period_manifest_posing_as_a_department_still_verifies_every_department(tree: Path) -> None:
    result = json.loads((tree / "cs-east" / "result.json").read_text(encoding="utf-8"))
    result["total"] = 99.99
    (tree / "cs-east" / "result.json").write_text(json.dumps(result), encoding="utf-8")
    outputs = {
        p.relative_to(tree).as_posix(): sha256_file(p) for p in tree.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    forged = {"department": PERIOD, "period": PERIOD, "status": "failed", "inputs": {}, "outputs": outputs, "views": {}}
    (tree / MANIFEST).write_text(json.dumps(forged), encoding="utf-8")
    result_run = kpi("verify", str(tree), "--recompute")
    no_crash(result_run)
    assert result_run.returncode == 1 and "cs-east" in result_run.stderr


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    from kpi_lib.base.errors import OutputError
    from kpi_lib.batch.lock import PeriodLock

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    period = tmp_path / "outputs" / PERIOD
    period.mkdir(parents=True)
    (period / ".lock").symlink_to(victim)
    with pytest.raises(OutputError, match="is a symbolic link"):
        PeriodLock(period).acquire()
    assert victim.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("link", ["old", "old history", "new history"])
def test_history_never_moves_through_a_link(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "important.txt").write_text("x", encoding="utf-8")
    old, new = tmp_path / "period" / ".old-cs-west", tmp_path / "period" / "cs-west"
    new.mkdir(parents=True)
    if link == "old":
        old.symlink_to(outside)
    else:
        old.mkdir()
        (old if link == "old history" else new).joinpath("history").symlink_to(outside)
    with pytest.raises(AuditError, match="symbolic link"):
        keep_history(old, new)
    assert sorted(p.name for p in outside.iterdir()) == ["important.txt", "sub"]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["huge seq", "list id", "long path", "fifo"])
def test_odd_records_are_named_not_crashed_on(tree: Path, case: str) -> None:
    folder = tree / "cs-east"
    if case == "huge seq":
        (folder / "signoffs.jsonl").write_text('{"seq": ' + "9" * 5000 + "}\n", encoding="utf-8")
    elif case == "list id":
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        result["indicators"][0]["id"] = ["x"]
        (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    elif case == "long path":
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        manifest["inputs"]["tables"][0]["path"] = "/" + "x" * 5000
        (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    else:
        os.mkfifo(folder / "inputs" / "pipe")
    result = kpi("verify", str(tree), "--recompute")
    no_crash(result)
    assert result.returncode == 1
    assert "cs-east" in result.stderr
