"""History inside the audit, and reuse that never breaks it (kpi_lib/audit/trail.py `check_history`, `_rows_moved`).

One demo company goes through the flow an operator would: run cs-east and
cs-north, sign cs-east, change one cs-north row of the shared complaints file and
run again (cs-east reused: verify passes, sign accepts), change one cs-east row and
re-run the signed department with `--force --reason`. Every attack then works on a
copy of its outputs: each is caught by `kpi verify`, naming the history entry.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kpi_lib.audit.signoff import is_signed, record_problems
from kpi_lib.audit.trail import history_name, keep_history, outputs_changed, planned_history, verify_period
from kpi_lib.base.files import sha256_file
from kpi_lib.base.layout import MANIFEST, SIGNOFFS
from kpi_lib.inputs.signing import sign_state

from .conftest import kpi

PERIOD = "2026-Q4"
REASON = "corrected complaints export"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d")


@dataclass
class Flow:
    root: Path
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    runs: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.root / "outputs"

    @property
    def period(self) -> Path:
        return self.out / PERIOD

    @property
    def complaints(self) -> Path:
        return self.root / "data" / "demo" / "complaints.csv"

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        params = ("params/cs-east.yaml", "params/cs-north.yaml")
        return kpi("run", *params, "--period", PERIOD, "--out", "outputs", "--jobs", "2", *extra, cwd=self.root)

    def edit_row(self, department: str, nth: int = 0) -> None:
        """Turn the `nth` satisfied complaint of `department` into an unsatisfied one."""
        lines = self.complaints.read_text(encoding="utf-8").splitlines()
        rows = [i for i, line in enumerate(lines) if f",{department}," in line and line.endswith(",yes")]
        lines[rows[nth]] = lines[rows[nth]][: -len("yes")] + "no"
        self.complaints.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def manifest_runs(self) -> dict[str, dict[str, str]]:
        runs: dict[str, dict[str, str]] = json.loads((self.period / MANIFEST).read_text(encoding="utf-8"))["runs"]
        return runs


@pytest.fixture(scope="module")
def flow(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Flow:
    root = tmp_path_factory.mktemp("history-audit")
    shutil.copytree(demo_dir / "data", root / "data")
    shutil.copytree(demo_dir / "params", root / "params")
    flow = Flow(root)
    first = flow.run()
    assert first.returncode == 0, first.stderr
    east = str(flow.period / "cs-east")
    assert kpi("sign", east, "--role", "manager", "--name", "王经理").returncode == 0
    # another department's row of the shared file changes: cs-east is reused and must stay verifiable and signable
    flow.edit_row("cs-north")
    flow.steps["shared change"] = flow.run()
    flow.runs["shared change"] = flow.manifest_runs()
    flow.steps["verify after reuse"] = kpi("verify", str(flow.period))
    flow.steps["sign after reuse"] = kpi("sign", east, "--role", "supervisor", "--name", "李主管")
    # cs-north's own row changes with no run after it: its result is out of date, and verify says so
    kept = flow.complaints.read_bytes()
    flow.edit_row("cs-north", 1)
    flow.steps["own row, no run"] = kpi("verify", str(flow.period))
    flow.complaints.write_bytes(kept)
    # cs-east's own row changes: its signed run is replaced only with --force and a reason
    flow.edit_row("cs-east")
    flow.steps["refused"] = flow.run()
    flow.steps["forced"] = flow.run("--force", "--reason", REASON, "--by", "HR Li")
    flow.runs["forced"] = flow.manifest_runs()
    flow.steps["verify after force"] = kpi("verify", str(flow.period), "--recompute")
    return flow


def entry_of(period: Path) -> Path:
    (entry,) = sorted((period / "cs-east" / "history").iterdir())
    return entry


# -- reuse after a shared file changed ------------------------------------------------------
@pytest.mark.slow
def test_a_department_reused_after_a_shared_change_verifies_and_signs(flow: Flow) -> None:
    assert flow.steps["shared change"].returncode == 0, flow.steps["shared change"].stderr
    runs = flow.runs["shared change"]
    assert runs["cs-east"]["run"] == "reused" and "other rows of complaints changed" in runs["cs-east"]["why"]
    assert runs["cs-north"]["run"] == "ran"
    verified = flow.steps["verify after reuse"]
    assert verified.returncode == 0, verified.stderr
    assert "complaints.csv: changed since this run, but not cs-east's rows in it" in verified.stdout
    signed = flow.steps["sign after reuse"]
    assert signed.returncode == 0, signed.stderr


@pytest.mark.slow
def test_a_department_whose_own_rows_changed_still_fails_verify(flow: Flow) -> None:
    found = flow.steps["own row, no run"]
    assert found.returncode == 1
    assert "complaints.csv: input changed" in found.stderr and "cs-north's own rows in it changed" in found.stderr
    assert "cs-east" not in found.stderr.split("cs-north's own rows")[0].splitlines()[-1]


# -- --force and its reason -----------------------------------------------------------------
@pytest.mark.slow
def test_a_forced_run_records_who_when_why_and_what_it_replaced(flow: Flow) -> None:
    assert flow.steps["refused"].returncode == 1 and '--force --reason "…"' in flow.steps["refused"].stderr
    assert flow.steps["forced"].returncode == 0, flow.steps["forced"].stderr
    east = flow.period / "cs-east"
    entry = entry_of(flow.period)
    assert STAMP.fullmatch(entry.name), entry.name
    replaced = sha256_file(entry / MANIFEST)
    assert json.loads((east / MANIFEST).read_text(encoding="utf-8"))["history"] == {entry.name: replaced}
    # the signatures it replaced, carried over as a superseded round, then the override, chained after them
    *carried, record = [json.loads(line) for line in (east / SIGNOFFS).read_text(encoding="utf-8").splitlines()]
    assert carried and all(c["manifest_sha256"] == replaced for c in carried)
    assert record["kind"] == "override" and record["by"] == "HR Li" and record["reason"] == REASON
    assert record["replaced_manifest_sha256"] == replaced and record["history"] == f"history/{entry.name}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", record["time"])  # a time with its offset
    assert sign_state(east).signed == ()  # an override signs nothing: the new run waits for its own signatures
    assert is_signed(east)  # its superseded round still counts: running it again needs --force --reason again
    (override,) = json.loads((flow.period / MANIFEST).read_text(encoding="utf-8"))["overrides"]
    assert override["department"] == "cs-east" and override["replaced_manifest_sha256"] == replaced
    verified = flow.steps["verify after force"]
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.count(f"history/{entry.name}: signature") == 2  # both signatures of the replaced run
    stored = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))["inputs"]["tables"]
    assert all((flow.period / ".sources" / t["stored"]).is_file() for t in stored)  # the store keeps them


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--force"], "--reason is empty"),
        (["--force", "--reason", "   "], "--reason is empty"),
        (["--force", "--reason", "x" * 2001], "--reason has 2001 characters"),
        (["--force", "--reason", "why\x07"], "--reason holds the control character U+0007"),
        (["--force", "--reason", "ok", "--by", "a\tb"], "--by 'a\\tb' holds the control character U+0009"),
        (["--reason", "why"], "--reason and --by go with --force"),
    ],
)
def test_force_without_a_good_reason_is_refused_before_anything_runs(
    tmp_path: Path, demo_dir: Path, extra: list[str], expected: str
) -> None:
    out = tmp_path / "outputs"
    result = kpi(
        "run", str(demo_dir / "params" / "cs-east.yaml"), "--period", PERIOD, "--out", str(out), *extra, in_process=True
    )
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert not out.exists()


# -- attacks on history ---------------------------------------------------------------------
def _edit_total(entry: Path) -> None:
    result = json.loads((entry / "result.json").read_text(encoding="utf-8"))
    result["total"] = 99.99
    (entry / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _edit_total_fixing_its_hash(entry: Path) -> None:
    _edit_total(entry)
    manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    manifest["outputs"]["result.json"] = sha256_file(entry / "result.json")
    (entry / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _edit_total_fixing_every_hash(entry: Path) -> None:
    """A forger who rewrites every manifest up to the period's: only recomputing the numbers shows it."""
    _edit_total_fixing_its_hash(entry)
    east = entry.parent.parent
    manifest = json.loads((east / MANIFEST).read_text(encoding="utf-8"))
    manifest["history"][entry.name] = sha256_file(entry / MANIFEST)
    (east / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    period = json.loads((east.parent / MANIFEST).read_text(encoding="utf-8"))
    period["departments"]["cs-east"] = sha256_file(east / MANIFEST)
    (east.parent / MANIFEST).write_text(json.dumps(period), encoding="utf-8")


def _stored_input(entry: Path) -> Path:
    """A stored full source only the history entry refers to (the older complaints file)."""
    now = json.loads((entry.parent.parent / MANIFEST).read_text(encoding="utf-8"))["inputs"]["tables"]
    then = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))["inputs"]["tables"]
    (name,) = {t["stored"] for t in then} - {t["stored"] for t in now}
    return entry.parent.parent.parent / ".sources" / name


def _change_stored_input(entry: Path) -> None:
    path = _stored_input(entry)
    path.write_bytes(path.read_bytes().replace(b",yes", b",no", 1))


def _edit_sign_off(entry: Path) -> None:
    log = entry / SIGNOFFS
    log.write_text(log.read_text(encoding="utf-8").replace("王经理", "张经理"), encoding="utf-8")


def _add_entry(entry: Path) -> None:
    shutil.copytree(entry, entry.with_name("2026-01-01T00-00-00"))


def _period_manifest(entry: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = entry.parent.parent.parent / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _rewrite_log(entry: Path, keep: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """The department's log rewritten as a forger would: some records kept, then seq and chain made whole again."""
    log = entry.parent.parent / SIGNOFFS
    records = keep([json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()])
    lines: list[str] = []
    for seq, record in enumerate(records, start=1):
        record["seq"] = seq
        record["prev_sha256"] = hashlib.sha256(lines[-1].encode("utf-8")).hexdigest() if lines else None
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    log.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _forge_supervisor_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A supervisor's signature of the current run, with no manager's before it, in the format kpi sign writes now."""
    current = records[-1]["manifest_sha256"]
    forged = {**records[1], "name": "Mallory", "manifest_sha256": current, "time": "2026-12-07T10:00:00+08:00"}
    return [*records, forged]


ATTACKS: list[tuple[str, Callable[[Path], None], bool, str]] = [
    ("edit result.json", _edit_total, False, "{entry}/result.json: output changed"),
    (
        "edit result.json and its hash",
        _edit_total_fixing_its_hash,
        False,
        "manifest of the history entry {name} changed",
    ),
    (
        "edit result.json and every hash",
        _edit_total_fixing_every_hash,
        True,
        "{entry}/result.json: total recorded 99.99",
    ),
    ("delete the entry", lambda e: shutil.rmtree(e), False, "{entry}: history entry deleted"),
    ("delete history/", lambda e: shutil.rmtree(e.parent), False, "{entry}: history entry deleted"),
    ("add an entry", _add_entry, False, "history/2026-01-01T00-00-00: history entry added"),
    ("change a stored input", _change_stored_input, False, "{entry}: {store}: stored source of complaints changed"),
    ("remove a stored input", lambda e: _stored_input(e).unlink(), False, "{entry}: {store}: stored source of"),
    ("edit its sign-off log", _edit_sign_off, False, "{entry}: signature 2 (supervisor 李主管"),
    # the override, recorded twice: each copy is checked against the other
    (
        "remove the override record",
        lambda e: _rewrite_log(e, lambda r: r[:-1]),
        False,
        "that {period}/cs-east/signoffs.jsonl no longer holds (the record was removed)",
    ),
    (
        "edit who forced it in the period manifest",
        lambda e: _period_manifest(e, lambda m: m["overrides"][0].update(by="CEO")),
        False,
        "its override of cs-east (history/{name}) differs from the record",
    ),
    (
        "delete the period manifest's overrides",
        lambda e: _period_manifest(e, lambda m: m.pop("overrides")),
        False,
        "holds an override (history/{name}) that {period}/manifest.json does not record",
    ),
    # the carried round is the replaced run's log, whole
    (
        "drop the carried signatures",
        lambda e: _rewrite_log(e, lambda r: r[-1:]),
        False,
        "the lines before it are not the sign-off log of the run it replaced (history/{name}",
    ),
    (
        "forge a supervisor's signature before the manager's",
        lambda e: _rewrite_log(e, _forge_supervisor_first),
        False,
        "supervisor signed before manager, which kpi sign refuses",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("attack", "recompute", "expected"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_every_attack_on_history_is_caught_naming_the_entry(
    flow: Flow, tmp_path: Path, attack: Callable[[Path], None], recompute: bool, expected: str
) -> None:
    shutil.copytree(flow.out, tmp_path / "outputs", symlinks=True)
    period = tmp_path / "outputs" / PERIOD
    assert verify_period(period).ok  # the copy verifies before the attack
    entry = entry_of(period)
    store = _stored_input(entry)
    attack(entry)
    report = verify_period(period, recompute=recompute)
    assert not report.ok
    found = [*report.differences, *report.broken]
    want = expected.format(entry=entry, name=entry.name, store=store, period=period)
    assert any(want in line for line in found), "\n".join(found)


@pytest.mark.slow
def test_diff_refuses_a_forged_history_total(flow: Flow, tmp_path: Path) -> None:
    shutil.copytree(flow.out, tmp_path / "outputs", symlinks=True)
    entry = entry_of(tmp_path / "outputs" / PERIOD)
    east = entry.parent.parent
    genuine = kpi("diff", str(entry), str(east), in_process=True)
    assert genuine.returncode == 0 and "total: 96.54 → " in genuine.stdout, genuine.stderr
    _edit_total(entry)
    forged = kpi("diff", str(entry), str(east), in_process=True)
    assert forged.returncode == 1 and "99.99" not in forged.stdout
    assert f"{entry}: fails verification, so its numbers are not shown" in forged.stderr


# -- the pieces, without a run --------------------------------------------------------------
@pytest.mark.parametrize(
    ("created", "taken", "expected"),
    [
        ("2026-12-06T21:24:26+08:00", [], "2026-12-06T21-24-26"),
        ("2026-12-06T21:24:26", ["2026-12-06T21-24-26"], "2026-12-06T21-24-26-2"),
        ("2026-12-06T21:24:26", ["2026-12-06T21-24-26", "2026-12-06T21-24-26-2"], "2026-12-06T21-24-26-3"),
        ("../../../escaped", [], None),  # evidence, not a path: the clock's time names it
        (None, [], None),
    ],
)
def test_a_history_entry_is_named_by_a_readable_time(
    tmp_path: Path, created: str | None, taken: list[str], expected: str | None
) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"created": created}), encoding="utf-8")
    name = history_name(tmp_path, taken)
    assert name == expected if expected else STAMP.fullmatch(name)


GOOD_OVERRIDE = {
    "seq": 1,
    "kind": "override",
    "by": "HR Li",
    "time": "2026-12-06T21:24:26+08:00",
    "reason": REASON,
    "replaced_manifest_sha256": "a" * 64,
    "history": "history/2026-12-06T21-24-26",
    "manifest_sha256": "b" * 64,
    "prev_sha256": None,
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, None),
        ({"reason": ""}, "reason is not text"),
        ({"by": "a\nb"}, "by holds the control character"),
        ({"kind": "signature"}, "kind 'signature'"),
        ({"role": "manager"}, "unexpected field(s) role"),
        ({"replaced_manifest_sha256": None}, "replaced_manifest_sha256 is not text"),
    ],
)
def test_override_records_are_judged_by_their_own_shape(change: dict[str, object], expected: str | None) -> None:
    problems = record_problems({**GOOD_OVERRIDE, **change})
    assert (not problems) if expected is None else any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("lines", "signed"),
    [
        ([GOOD_OVERRIDE], False),
        ([{**GOOD_OVERRIDE, "reason": ""}], True),  # a damaged record counts as signed: never overwritten
        ([GOOD_OVERRIDE, {"seq": 2, "role": "manager"}], True),
        (["not json"], True),
        ([], False),
    ],
)
def test_a_log_of_overrides_only_is_not_signed(tmp_path: Path, lines: list[object], signed: bool) -> None:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (tmp_path / SIGNOFFS).write_text(text, encoding="utf-8")
    assert is_signed(tmp_path) is signed


def _run_folder(folder: Path, created: str, history: dict[str, str] | None, *, signed: bool) -> None:
    folder.mkdir(parents=True)
    manifest = {"created": created, **({"history": history} if history is not None else {})}
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    if signed:
        (folder / SIGNOFFS).write_text(json.dumps({"seq": 1, "role": "manager"}) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("signed", "recorded", "kept"),
    [
        (False, True, ["2026-10-01T08-00-00"]),  # an unsigned run replaced: the signed runs before it stay
        (True, True, ["2026-10-01T08-00-00", "2026-12-06T21-24-26"]),
        (True, False, ["2026-10-01T08-00-00", "2026-12-06T21-24-26"]),  # a manifest from before history was recorded
    ],
)
def test_history_is_planned_as_it_is_kept_and_never_dropped(
    tmp_path: Path, signed: bool, recorded: bool, kept: list[str]
) -> None:
    old, new = tmp_path / PERIOD / "cs-east", tmp_path / PERIOD / ".staging-cs-east"
    entries = tmp_path / "entries"
    _run_folder(entries / "2026-10-01T08-00-00", "2026-10-01T08:00:00+08:00", {}, signed=True)
    _run_folder(entries / "2026-11-01T08-00-00", "2026-11-01T08:00:00+08:00", {}, signed=True)
    first = sha256_file(entries / "2026-10-01T08-00-00" / MANIFEST)
    # the second entry was added by hand: a manifest that records history lists only the first
    _run_folder(old, "2026-12-06T21:24:26+08:00", {"2026-10-01T08-00-00": first} if recorded else None, signed=signed)
    entries.rename(old / "history")
    planned, name = planned_history(old)
    expected = set(kept) if recorded else {*kept, "2026-11-01T08-00-00"}
    assert set(planned) == expected and name == ("2026-12-06T21-24-26" if signed else None)
    new.mkdir()
    keep_history(old, new, whole=signed)
    moved = sorted(p.name for p in (new / "history").iterdir())
    assert moved == sorted({*kept, "2026-11-01T08-00-00"})  # every entry moves; only the recorded ones are listed
    assert all(sha256_file(new / "history" / n / MANIFEST) == planned[n] for n in planned)


# -- a history entry on its own; a second forced run; an edited run is never reused ---------
@pytest.mark.slow
def test_a_history_entry_alone_verifies_and_is_never_signed(flow: Flow, tmp_path: Path) -> None:
    shutil.copytree(flow.out, tmp_path / "outputs", symlinks=True)
    entry = entry_of(tmp_path / "outputs" / PERIOD)
    alone = verify_period(
        entry
    )  # its company files moved on: its kept copies are the evidence, as in the period's check
    assert alone.ok, "\n".join([*alone.differences, *alone.broken])
    refused = kpi("sign", entry, "--role", "manager", "--name", "X", in_process=True)
    assert refused.returncode == 2 and "a run kept in history/" in refused.stderr, refused.stderr
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # refused before the lock: nothing written
    period = kpi("sign", entry.parent.parent.parent, "--role", "manager", "--name", "X", in_process=True)
    assert period.returncode == 2 and "not a department folder" in period.stderr, period.stderr


def _edit_with_its_hash(folder: Path) -> None:
    """A result edited, and its hash in the department's manifest with it (the period's manifest left alone)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    result["total"] = 99.99
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    manifest["outputs"]["result.json"] = sha256_file(folder / "result.json")
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("department", ["cs-north", "cs-east"])  # unsigned (it runs again), signed (it is refused)
def test_a_run_is_reused_only_as_the_period_manifest_records_it(flow: Flow, tmp_path: Path, department: str) -> None:
    shutil.copytree(flow.out, tmp_path / "outputs", symlinks=True)
    folder = tmp_path / "outputs" / PERIOD / department
    assert outputs_changed(folder) == []
    _edit_with_its_hash(folder)
    assert [
        f"{folder / MANIFEST}: is not the manifest {folder.parent / MANIFEST} records for it (edited since its run)"
    ] == [line for line in outputs_changed(folder) if "is not the manifest" in line]


@pytest.mark.slow
def test_a_second_forced_run_keeps_both_entries_verifiable_and_signable(flow: Flow, tmp_path: Path) -> None:
    root = Path(shutil.copytree(flow.root, tmp_path / "root", symlinks=True))
    again = Flow(root)
    east = again.period / "cs-east"
    assert kpi("sign", east, "--role", "manager", "--name", "王经理", in_process=True).returncode == 0
    again.edit_row("cs-east", 2)
    forced = again.run("--force", "--reason", "second correction")
    assert forced.returncode == 0, forced.stderr
    assert len(list((east / "history").iterdir())) == 2
    verified = verify_period(again.period, recompute=True)  # the older entry's signatures: superseded, not broken
    assert verified.ok, "\n".join([*verified.differences, *verified.broken])
    signed = kpi("sign", east, "--role", "manager", "--name", "王经理", in_process=True)
    assert signed.returncode == 0, signed.stderr
