"""One company file for every department (kpi_lib/inputs/company.py, `company:` in params).

Tables of cases: how each kind of key merges (replaced, a table entry replaced
whole, indicators, policy and periods key by key, period overrides from either
file), which folder a path resolves against, and which file and line a problem
names. Then the demo company as three departments sharing one complaints export
through one company file: the same numbers as the demo's own params, in process;
and one slow run through `kpi run`, `kpi verify --recompute` and `kpi diff`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from kpi_lib import Period, appraise, load_params
from kpi_lib.audit.diff import diff_runs
from kpi_lib.audit.trail import recorded_department, recorded_inputs, snapshot_inputs
from kpi_lib.base.errors import AuditError, Code, ParamsError
from kpi_lib.base.files import write_json
from kpi_lib.base.layout import COMPANY_COPY, INPUTS, MANIFEST
from kpi_lib.base.yamlfile import key_lines
from kpi_lib.batch.incremental import decide
from kpi_lib.cli import shared_codes
from kpi_lib.inputs.company import CompanyFile, key_problems, merge, owner
from kpi_lib.inputs.params import Department, Params
from kpi_lib.inputs.sources import no_code
from kpi_lib.inputs.tables import DataFolder
from kpi_lib.inputs.template import load_template

from .conftest import SPEC_INDICATORS, Company, kpi

Q4, Q3 = Period.parse("2026-Q4"), Period.parse("2026-Q3")


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def own_params(**changes: Any) -> dict[str, Any]:
    """A department's own keys: the company file gives data, template and lang."""
    doc: dict[str, Any] = {
        "company": "../company.yaml",
        "department": "cs-test",
        "name": "测试客服部",
        "indicators": json.loads(json.dumps(SPEC_INDICATORS)),
    }
    doc.update(changes)
    return doc


def shared(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"data": "data", "template": "customer_service", "lang": "zh", "review_date": "2026-12-20"}
    doc.update(changes)
    return doc


def load(root: Path, company: Any, params: Any) -> Department:
    """Write root/company.yaml and root/params/cs-test.yaml; load the params."""
    _write(root / "company.yaml", company)
    (root / "data").mkdir(exist_ok=True)
    return load_params(_write(root / "params" / "cs-test.yaml", params))


def cs04(**keys: Any) -> dict[str, Any]:
    return {"indicators": {"CS04": keys}}


# -- merging: (id, company, params, period, what to look at, expected) ------------------------------------------------
def _ind(iid: str, *keys: str) -> Callable[[Params], Any]:
    return lambda p: tuple(getattr(p.indicators[iid], k) for k in keys)


MERGE_CASES: list[tuple[str, dict[str, Any], dict[str, Any], Period, Callable[[Params], Any], Any]] = [
    ("lang from the company", shared(lang="en"), own_params(), Q4, lambda p: p.lang, "en"),
    ("lang replaced by the params", shared(lang="en"), own_params(lang="zh"), Q4, lambda p: p.lang, "zh"),
    (
        "timezone from the company",
        shared(timezone="Europe/Berlin"),
        own_params(),
        Q4,
        lambda p: p.timezone,
        "Europe/Berlin",
    ),
    ("data replaced by the params", shared(), own_params(data="mine"), Q4, lambda p: p.data, "mine"),
    ("review_date from the company", shared(), own_params(), Q4, lambda p: str(p.review_date), "2026-12-20"),
    (
        "grades from the company",
        shared(grades=[{"grade": "P", "min": 60}, {"grade": "F", "min": 0}]),
        own_params(),
        Q4,
        lambda p: tuple(b.grade for b in p.grades),
        ("P", "F"),
    ),
    (
        "grades replaced whole by the params",
        shared(grades=[{"grade": "P", "min": 60}, {"grade": "F", "min": 0}]),
        own_params(grades=[{"grade": "good", "min": 80}, {"grade": "bad", "min": 0}]),
        Q4,
        lambda p: tuple(b.grade for b in p.grades),
        ("good", "bad"),
    ),
    (
        "policy merged key by key",
        shared(policy={"step_rounding": "ceil", "min_score": 10}),
        own_params(policy={"min_score": 20}),
        Q4,
        lambda p: (p.policy.step_rounding, p.policy.min_score),
        ("ceil", Decimal(20)),
    ),
    (
        "indicators merged per id, then per key",
        shared(indicators={"CS04": {"sla": "48h", "step": 2, "penalty": 3}, "CS05": {"sla": "3wd"}}),
        own_params(indicators={**SPEC_INDICATORS, "CS04": {"weight": 8, "target": 95, "step": 1}}),
        Q4,
        lambda p: (*_ind("CS04", "weight", "target", "step", "penalty", "sla")(p), p.indicators["CS05"].sla),
        (Decimal(8), Decimal(95), Decimal(1), Decimal(3), "48h", "2wd"),
    ),
    (
        "an indicator's keys only in the company",
        shared(indicators={"CS04": {"sla": "24h", "step": 1, "penalty": 2}}),
        own_params(indicators={**SPEC_INDICATORS, "CS04": {"weight": 8, "target": 95}}),
        Q4,
        _ind("CS04", "weight", "target", "step", "penalty", "sla"),
        (Decimal(8), Decimal(95), Decimal(1), Decimal(2), "24h"),
    ),
    (
        "a table entry replaced whole by the params",
        shared(
            tables={
                "complaints": {"file": "tickets.csv", "columns": {"complaint_id": "ticket"}},
                "feedback": {"file": "fb.csv"},
            }
        ),
        own_params(tables={"complaints": {"file": "mine.csv"}}),
        Q4,
        lambda p: (p.tables["complaints"].file, p.tables["complaints"].columns, p.tables["feedback"].file),
        ("mine.csv", {}, "fb.csv"),
    ),
    (
        "a table entry of only the department's exclusions is added to the company's",
        shared(tables={"complaints": {"file": "tickets.csv", "columns": {"complaint_id": "ticket"}}}),
        own_params(tables={"complaints": {"exclude": {"T1": "duplicate in the CRM"}}}),
        Q4,
        lambda p: (p.tables["complaints"].file, p.tables["complaints"].columns, p.tables["complaints"].exclude),
        ("tickets.csv", {"complaint_id": "ticket"}, {"T1": "duplicate in the CRM"}),
    ),
    (
        "the department's exclusions are added to the company's",
        shared(tables={"complaints": {"file": "tickets.csv", "exclude": {"T1": "company-wide"}}}),
        own_params(tables={"complaints": {"exclude": {"T2": "this department's"}}}),
        Q4,
        lambda p: p.tables["complaints"].exclude,
        {"T1": "company-wide", "T2": "this department's"},
    ),
    (
        "a table entry of only allow_no_rows is added to the company's",
        shared(tables={"complaints": {"file": "tickets.csv"}}),
        own_params(tables={"complaints": {"allow_no_rows": True}}),
        Q4,
        lambda p: (p.tables["complaints"].file, p.tables["complaints"].allow_no_rows),
        ("tickets.csv", True),
    ),
    (
        "a table entry with a source of its own and exclusions replaces the company's",
        shared(tables={"complaints": {"file": "tickets.csv", "columns": {"complaint_id": "ticket"}}}),
        own_params(tables={"complaints": {"file": "mine.csv", "exclude": {"T1": "why"}}}),
        Q4,
        lambda p: (p.tables["complaints"].file, p.tables["complaints"].columns),
        ("mine.csv", {}),
    ),
    (
        "a period override from the company",
        shared(periods={"2026-Q4": cs04(target=97)}),
        own_params(),
        Q4,
        _ind("CS04", "target"),
        (Decimal(97),),
    ),
    (
        "the company's period override is for that period only",
        shared(periods={"2026-Q4": cs04(target=97)}),
        own_params(),
        Q3,
        _ind("CS04", "target"),
        (Decimal(95),),
    ),
    (
        "a period override of the params over the company's",
        shared(periods={"2026-Q4": cs04(target=97, penalty=4)}),
        own_params(periods={"2026-Q4": cs04(target=99)}),
        Q4,
        _ind("CS04", "target", "penalty"),
        (Decimal(99), Decimal(4)),
    ),
    (
        "period overrides of both files merged",
        shared(periods={"2026-Q4": cs04(target=97)}),
        own_params(periods={"2026-Q4": {"indicators": {"CS05": {"target": 90}}, "policy": {"min_score": 5}}}),
        Q4,
        lambda p: (p.indicators["CS04"].target, p.indicators["CS05"].target, p.policy.min_score),
        (Decimal(97), Decimal(90), Decimal(5)),
    ),
]


@pytest.mark.parametrize(
    ("company", "params", "period", "look", "expected"), [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES]
)
def test_the_params_override_the_company_by_kind_of_key(
    tmp_path: Path,
    company: dict[str, Any],
    params: dict[str, Any],
    period: Period,
    look: Callable[[Params], Any],
    expected: Any,
) -> None:
    assert look(load(tmp_path, company, params).for_period(period)) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("lang",), "params"),
        (("timezone",), "company"),
        (("indicators", "CS04", "sla"), "company"),
        (("indicators", "CS04", "weight"), "params"),
        (("indicators", "CS04", "penalty"), None),
        (("tables", "complaints", "columns", "complaint_id"), "params"),  # the params replaced the entry
        (("tables", "feedback", "file"), "company"),
        (("tables", "surveys", "file"), "company"),  # the params only add exclusions to the company's entry
        (("tables", "surveys"), "company"),  # … so the entry, its source and its folder, is the company's
        (("tables", "surveys", "exclude", "R1"), "params"),
        (("grades", "0", "min"), "params"),
    ],
)
def test_owner_names_the_file_a_merged_value_came_from(path: tuple[str, ...], expected: str | None) -> None:
    company = {
        "lang": "en",
        "timezone": "Europe/Berlin",
        "indicators": {"CS04": {"sla": "24h"}},
        "tables": {
            "complaints": {"columns": {"complaint_id": "id"}},
            "feedback": {"file": "f.csv"},
            "surveys": {"file": "s.csv"},
        },
        "grades": [{"grade": "A", "min": 0}],
    }
    own = {
        "lang": "zh",
        "indicators": {"CS04": {"weight": 8}},
        "tables": {"complaints": {}, "surveys": {"exclude": {"R1": "a test answer"}}},
        "grades": [{"grade": "B", "min": 0}],
    }
    assert owner(path, company, own) == expected
    merged = merge(company, own)
    assert merged["tables"]["complaints"] == {} and merged["indicators"]["CS04"] == {"sla": "24h", "weight": 8}


def test_no_company_key_keeps_the_params_as_they_were(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", {k: v for k, v in {**own_params(), **shared()}.items() if k != "company"})
    department = load_params(path)
    assert department.company is None and department.own is department.raw
    assert department.table_bases() == {} and department.data_folder == (tmp_path / "data").resolve()


# -- paths ----------------------------------------------------------------------------------------------------------
def _custom_template(root: Path) -> Path:
    path = root / "shared" / "tpl" / "mine.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(load_template().path, path)
    return path


PATH_CASES: list[tuple[str, dict[str, Any], dict[str, Any], Callable[[Department, Path], tuple[Path, Path]]]] = [
    (
        "data of the company: its folder",
        shared(data="crm"),
        {},
        lambda d, root: (d.data_folder, root / "shared" / "crm"),
    ),
    (
        "data of the params: the params' folder",
        shared(data="crm"),
        {"data": "../mine"},
        lambda d, root: (d.data_folder, root / "mine"),
    ),
    (
        "template path of the company: its folder",
        shared(template="tpl/mine.yaml"),
        {},
        lambda d, root: (Path(d.template.path), root / "shared" / "tpl" / "mine.yaml"),
    ),
    (
        "a table entry of the company: its folder",
        shared(tables={"complaints": {"adapter": "adapt.py:fix"}}),
        {},
        lambda d, root: (d.table_base("complaints"), root / "shared"),
    ),
    (
        "a table entry of the params: the params' folder",
        shared(tables={"complaints": {"adapter": "adapt.py:fix"}}),
        {"tables": {"complaints": {"adapter": "adapt.py:fix"}}},
        lambda d, root: (d.table_base("complaints"), root / "params"),
    ),
    (
        "a table without an entry: the params' folder",
        shared(),
        {},
        lambda d, root: (d.table_base("feedback"), root / "params"),
    ),
    (
        "an adapter of the company: found in its folder",
        shared(tables={"complaints": {"adapter": "adapt.py:fix"}}),
        {},
        lambda d, root: (DataFolder.of(d).adapter_file("complaints") or Path(), root / "shared" / "adapt.py"),
    ),
]


@pytest.mark.parametrize(("company", "params", "look"), [c[1:] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES])
def test_paths_resolve_against_the_folder_of_the_file_that_names_them(
    tmp_path: Path,
    company: dict[str, Any],
    params: dict[str, Any],
    look: Callable[[Department, Path], tuple[Path, Path]],
) -> None:
    _custom_template(tmp_path)
    (tmp_path / "shared" / "adapt.py").write_text("def fix(raw, options):\n    return raw\n", encoding="utf-8")
    _write(tmp_path / "shared" / "company.yaml", company)
    path = _write(tmp_path / "params" / "cs-test.yaml", own_params(company="../shared/company.yaml", **params))
    found, expected = look(load_params(path), tmp_path)
    assert found.resolve() == expected.resolve()


def test_an_absolute_company_path_works(tmp_path: Path) -> None:
    _write(tmp_path / "elsewhere" / "company.yaml", shared(lang="en"))
    path = _write(tmp_path / "params" / "x.yaml", own_params(company=str(tmp_path / "elsewhere" / "company.yaml")))
    assert load_params(path).base.lang == "en"


def test_an_adapter_climbing_out_of_the_company_folder_is_refused_naming_it(tmp_path: Path) -> None:
    department = load(tmp_path, shared(tables={"complaints": {"adapter": "../x.py:fix"}}), own_params())
    problems = DataFolder.of(department).table("complaints").problems
    assert [p.code for p in problems] == [Code.PATH_OUTSIDE]
    assert "tables.complaints.adapter: '../x.py' climbs out" in str(problems[0])
    assert "the company file's folder" in str(problems[0]) and problems[0].file == str(tmp_path)


# -- problems: (id, company text, params changes, the file, what the line says, code) ------------------------------------
VALID_COMPANY = "data: data\ntemplate: customer_service\n"
ERROR_CASES: list[tuple[str, str | None, dict[str, Any], str, tuple[str, ...], Code]] = [
    (
        "unknown key",
        VALID_COMPANY + "lang: zh\ncolour: blue\n",
        {},
        "company.yaml",
        ("line 4", "colour", "unknown key"),
        Code.UNKNOWN_KEY,
    ),
    (
        "a key in the wrong letter case",
        VALID_COMPANY + "TimeZone: Europe/Berlin\n",
        {},
        "company.yaml",
        ("line 3", "TimeZone: unknown key; did you mean timezone?"),
        Code.UNKNOWN_KEY,
    ),
    (
        "unknown nested key",
        VALID_COMPANY + "tables:\n  complaints:\n    file: t.csv\n    colums: {complaint_id: id}\n",
        {},
        "company.yaml",
        ("line 6", "tables.complaints.colums", "unknown key"),
        Code.UNKNOWN_KEY,
    ),
    (
        "a bad value of the company",
        VALID_COMPANY + "indicators:\n  CS04:\n    sla: 2xx\n",
        {"indicators": {**SPEC_INDICATORS, "CS04": {k: v for k, v in SPEC_INDICATORS["CS04"].items() if k != "sla"}}},
        "company.yaml",
        ("line 5", "indicators.CS04.sla", "'2xx'"),
        Code.BAD_SLA,
    ),
    (
        "an unknown indicator of the company",
        VALID_COMPANY + "indicators:\n  CS99: {sla: 24h}\n",
        {},
        "company.yaml",
        ("line 4", "indicators.CS99", "unknown indicator"),
        Code.UNKNOWN_INDICATOR,
    ),
    (
        "an unknown table of the company",
        VALID_COMPANY + "tables:\n  tickets: {file: t.csv}\n",
        {},
        "company.yaml",
        ("line 4", "tables.tickets", "unknown table"),
        Code.UNKNOWN_TABLE,
    ),
    (
        "a bad period override of the company",
        VALID_COMPANY + "periods:\n  2026-Q4:\n    indicators:\n      CS04: {target: 200}\n",
        {},
        "company.yaml",
        ("line 6", "periods.2026-Q4 → indicators.CS04.target", "0 to 100"),
        Code.OUT_OF_RANGE,
    ),
    (
        "a period key of the company",
        VALID_COMPANY + "periods:\n  2026-Q5: {}\n",
        {},
        "company.yaml",
        ("line 4", "periods.2026-Q5"),
        Code.BAD_PERIOD,
    ),
    (
        "a department in the company",
        VALID_COMPANY + "department: cs-x\n",
        {},
        "company.yaml",
        ("line 3", "department"),
        Code.NOT_IN_COMPANY_FILE,
    ),
    (
        "a name in the company",
        "name: Shared\n" + VALID_COMPANY,
        {},
        "company.yaml",
        ("line 1", "name"),
        Code.NOT_IN_COMPANY_FILE,
    ),
    (
        "a company file naming a company file",
        VALID_COMPANY + "company: other.yaml\n",
        {},
        "company.yaml",
        ("line 3", "company", "another company file"),
        Code.NOT_IN_COMPANY_FILE,
    ),
    (
        "a repeated key",
        VALID_COMPANY + "lang: zh\nlang: en\n",
        {},
        "company.yaml",
        ("line 4", "given twice"),
        Code.YAML_DUPLICATE_KEY,
    ),
    ("not a mapping", "- data\n", {}, "company.yaml", ("expected a mapping",), Code.WRONG_TYPE),
    ("no company file", None, {}, "cs-test.yaml", ("line 1", "company", "no such file"), Code.MISSING_COMPANY_FILE),
    (
        "company is no path",
        VALID_COMPANY,
        {"company": ["a", "b"]},
        "cs-test.yaml",
        ("line 1", "company"),
        Code.WRONG_TYPE,
    ),
    (
        "a bad value of the params",
        VALID_COMPANY,
        {"indicators": {**SPEC_INDICATORS, "CS04": {**SPEC_INDICATORS["CS04"], "sla": "2xx"}}},
        "cs-test.yaml",
        ("indicators.CS04.sla",),
        Code.BAD_SLA,
    ),
    (
        "a weight missing from both",
        VALID_COMPANY + "indicators:\n  CS04: {sla: 24h}\n",
        {"indicators": {k: v for k, v in SPEC_INDICATORS.items() if k != "CS04"}},
        "cs-test.yaml",
        ("indicators.CS04.weight", "missing"),
        Code.MISSING_KEY,
    ),
]


@pytest.mark.parametrize(
    ("company", "params", "file", "words", "code"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_a_problem_names_the_file_of_its_value_and_the_line(
    tmp_path: Path, company: str | None, params: dict[str, Any], file: str, words: tuple[str, ...], code: Code
) -> None:
    if company is not None:
        _write(tmp_path / "company.yaml", company)
    (tmp_path / "data").mkdir()
    path = _write(tmp_path / "params" / "cs-test.yaml", own_params(**params))
    with pytest.raises(ParamsError) as raised:
        load_params(path)
    found = [p for p in raised.value.problems if p.code == code]
    assert found, raised.value.lines()
    line = str(found[0])
    expected = tmp_path / "params" / file if file == "cs-test.yaml" else tmp_path / file
    assert Path(found[0].file).resolve() == expected.resolve(), line
    assert all(word in line for word in words), line


# -- the demo company through one company file ------------------------------------------------------------------------
TEAMS = {"cs-east": "East", "cs-north": "North", "cs-west": "West"}
OWN_KEYS = ("weight", "target", "method")  # what each department keeps of an indicator; the rest is the company's


def demo_company(root: Path, demo_dir: Path) -> list[Path]:
    """The demo's three departments, their complaints in one export read through one company file; their params."""
    shutil.copytree(demo_dir / "data", root / "data")
    source = root / "data" / "demo" / "complaints.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (root / "data" / "demo" / "tickets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["ticket_no", "team", "opened_at", "closed_at", "happy"])
        for r in rows:
            writer.writerow(
                [r["complaint_id"], TEAMS[r["department"]], r["received_at"], r["resolved_at"], r["satisfied"]]
            )
    source.unlink()  # read through the mapping, or not at all
    demo = {d: yaml.safe_load((demo_dir / "params" / f"{d}.yaml").read_text(encoding="utf-8")) for d in TEAMS}
    east = demo["cs-east"]
    company = {
        "data": "data/demo",
        "template": "customer_service",
        "lang": "zh",
        "review_date": east["review_date"],
        "policy": east["policy"],
        "tables": {
            "complaints": {
                "file": "tickets.csv",
                "columns": {
                    "complaint_id": "ticket_no",
                    "department": "team",
                    "received_at": "opened_at",
                    "resolved_at": "closed_at",
                    "satisfied": "happy",
                },
                "values": {"department": {team: d for d, team in TEAMS.items()}},
            }
        },
        "indicators": {
            iid: {k: v for k, v in spec.items() if k not in OWN_KEYS} for iid, spec in east["indicators"].items()
        },
    }
    _write(root / "company.yaml", company)
    paths = []
    for d, doc in demo.items():
        own: dict[str, Any] = {"company": "../company.yaml", "department": d, "name": doc["name"]}
        if doc["lang"] != company["lang"]:
            own["lang"] = doc["lang"]
        policy = {k: v for k, v in doc["policy"].items() if company["policy"].get(k) != v}
        if policy:
            own["policy"] = policy
        own["indicators"] = {
            iid: {k: v for k, v in spec.items() if k in OWN_KEYS} for iid, spec in doc["indicators"].items()
        }
        if "periods" in doc:
            own["periods"] = doc["periods"]
        paths.append(_write(root / "params" / f"{d}.yaml", own))
    return paths


def test_the_demo_through_one_company_file_scores_as_the_demo(demo_dir: Path, tmp_path: Path) -> None:
    paths = demo_company(tmp_path, demo_dir)
    assert {p.stem: load_params(p).table_bases() for p in paths} == {d: {"complaints": tmp_path} for d in TEAMS}
    for path in paths:
        mine = appraise(load_params(path), Q4).to_json()
        theirs = appraise(load_params(demo_dir / "params" / path.name), Q4).to_json()
        assert mine == theirs
        assert next(i for i in mine["indicators"] if i["id"] == "CS07")["denominator"] > 0


def test_a_run_keeps_the_company_file_and_recomputes_from_its_copy(demo_dir: Path, tmp_path: Path) -> None:
    path = demo_company(tmp_path, demo_dir)[0]
    folder = tmp_path / "outputs" / "2026-Q4" / "cs-east"
    department = load_params(path)
    section = snapshot_inputs(department, Q4, folder)
    company = tmp_path / "company.yaml"
    assert (folder / INPUTS / COMPANY_COPY).read_bytes() == company.read_bytes()
    assert section["company"]["copy"] == f"{INPUTS}/{COMPANY_COPY}" and section["company"]["path"] == str(company)
    assert list(section)[:2] == ["params", "company"]
    company.write_text(company.read_text(encoding="utf-8").replace("sla: 24h", "sla: 48h"), encoding="utf-8")
    assert load_params(path).base.indicators["CS04"].sla == "48h"
    assert recorded_department(folder).base.indicators["CS04"].sla == "24h"  # the copy, not the company's file now


def test_an_adapter_of_the_company_is_kept_and_its_output_recomputed_without_running_it(
    demo_dir: Path, tmp_path: Path
) -> None:
    path = demo_company(tmp_path, demo_dir)[1]
    company = tmp_path / "company.yaml"
    (tmp_path / "fix.py").write_text("def fix(raw, options):\n    return raw\n", encoding="utf-8")
    doc = yaml.safe_load(company.read_text(encoding="utf-8"))
    doc["tables"]["complaints"]["adapter"] = "fix.py:fix"
    _write(company, doc)
    department = load_params(path)
    folder = tmp_path / "outputs" / "2026-Q4" / department.id
    section = snapshot_inputs(department, Q4, folder)
    kept = [e for e in section["tables"] if e.get("role") == "adapter"]
    assert [e["copy"] for e in kept] == [f"{INPUTS}/adapters/company/fix.py"] and kept[0]["path"] == str(
        tmp_path / "fix.py"
    )
    write_json(folder / MANIFEST, {"inputs": section})
    live = appraise(department, Q4).to_json()
    (tmp_path / "fix.py").write_text("def fix(raw, options):\n    raise SystemExit('ran')\n", encoding="utf-8")
    with no_code("kpi verify"), recorded_inputs(folder) as (recorded, _):
        assert recorded.company is not None and recorded.company.path.name == COMPANY_COPY
        assert appraise(recorded, Q4, data=DataFolder.of(recorded)).to_json() == live
    with no_code("kpi verify"), pytest.raises(AuditError, match="executes no code"):
        appraise(load_params(path), Q4)


@pytest.mark.parametrize(
    ("before", "now", "words"),
    [
        ({"company": "a"}, {"company": "b"}, "changed: its company file"),
        ({}, {"company": "b"}, "changed: its company file"),
        ({"company": "a"}, {"company": "a"}, "unchanged"),
        ({}, {}, "unchanged"),
    ],
)
def test_a_changed_company_file_runs_the_department_again(
    before: dict[str, str], now: dict[str, str], words: str
) -> None:
    parts = {p: "x" for p in ("toolkit", "notebooks", "params", "template", "options", "sources", "rows", "history")}
    previous = {"status": "ok", "fingerprint": {**parts, **before}}
    assert words in decide(previous, {**parts, **now}, fresh=False, adapters=False).why


ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}


@pytest.mark.slow
def test_kpi_run_verify_and_diff_through_a_company_file(demo_dir: Path, tmp_path: Path) -> None:
    paths = demo_company(tmp_path, demo_dir)
    out, company = tmp_path / "outputs", tmp_path / "company.yaml"
    period = out / "2026-Q4"

    def run() -> dict[str, dict[str, str]]:
        done = kpi("run", "--all", "--period", "2026-Q4", "--out", out, "--jobs", "2", cwd=tmp_path, env=ENV)
        assert done.returncode == 0, done.stderr
        return json.loads((period / MANIFEST).read_text(encoding="utf-8"))["runs"]

    run()
    for path in paths:
        folder = period / path.stem
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["inputs"]["company"]["sha256"] == manifest["fingerprint"]["company"]
        assert (folder / INPUTS / COMPANY_COPY).read_bytes() == company.read_bytes()
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        assert result["total"] == appraise(load_params(path), Q4).to_json()["total"]
    verified = kpi("verify", period, "--recompute", cwd=tmp_path, env=ENV)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    copy = period / "cs-north" / INPUTS / COMPANY_COPY
    kept = copy.read_bytes()
    copy.write_bytes(kept.replace(b"penalty: 2", b"penalty: 9"))
    broken = kpi("verify", period, "--recompute", cwd=tmp_path, env=ENV)
    assert broken.returncode == 1
    assert f"{copy}: recorded input copy changed" in broken.stdout + broken.stderr
    copy.write_bytes(kept)

    before = tmp_path / "before-cs-east"
    shutil.copytree(period / "cs-east", before)
    company.write_text(company.read_text(encoding="utf-8").replace("penalty: 2", "penalty: 3"), encoding="utf-8")
    runs = run()
    assert {d: (runs[d]["run"], runs[d]["why"]) for d in TEAMS} == dict.fromkeys(
        TEAMS, ("ran", "changed: its company file")
    ), runs
    again = kpi("verify", period, "--recompute", cwd=tmp_path, env=ENV)
    assert again.returncode == 0, again.stdout + again.stderr
    lines = diff_runs(before, period / "cs-east")
    assert any("parameter indicators.CS04.penalty: 2 → 3" in line for line in lines), lines


def test_the_documented_company_file_is_accepted_as_it_is(tmp_path: Path) -> None:
    concepts = (Path(__file__).resolve().parents[1] / "docs" / "concepts.md").read_text(encoding="utf-8")
    section = concepts.split("## One company file for every department", 1)[1]
    text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = _write(tmp_path / "company.yaml", text)
    company = CompanyFile(path, yaml.safe_load(text), key_lines(text))
    assert key_problems(company, Params.model_fields) == [] and "tables" in company.raw
    own = yaml.safe_load(section.split("```yaml\n", 2)[2].split("```", 1)[0])
    assert own["company"] == "../company.yaml" and set(merge(company.raw, own)["indicators"]["CS04"]) == {
        "sla",
        "step",
        "penalty",
        "bonus",
        "weight",
        "target",
    }


@pytest.mark.parametrize(
    ("codes", "noted"),
    [
        ({"East": "cs-test", "North": "cs-north"}, None),
        ({"East": "cs-test", "North": "cs-test"}, "gives cs-test the rows of 2 codes: East, North"),
        ({"East": "cs-other", "North": "cs-other"}, None),  # another department's codes: its own validate says so
    ],
)
def test_validate_notes_a_department_given_several_codes(company: Company, codes: dict[str, str], noted: str) -> None:
    path = company.params(tables={"complaints": {"columns": {"department": "team"}, "values": {"department": codes}}})
    lines = shared_codes(load_params(path))
    assert lines == (
        [] if noted is None else [f"tables.complaints.values.department {noted}; check that each is one of its own"]
    )


@pytest.mark.parametrize(
    ("entry", "dropped"),
    [
        ({"exclude": {"T1": "why"}}, False),  # added to the company's entry: still its query
        ({"allow_no_rows": True}, False),
        ({"sql": {"url": "sqlite:///mine.sqlite", "query": "SELECT * FROM t"}}, False),  # a source of its own
        ({"file": "mine.csv"}, False),
        ({}, True),  # would read data/complaints.csv instead of the company's query
        ({"columns": {"complaint_id": "ticket"}}, True),
        ({"exclude": {"T1": "why"}, "date_format": "%Y-%m-%d %H:%M"}, True),
    ],
)
def test_a_department_s_table_entry_never_drops_the_company_s_source_silently(
    tmp_path: Path, entry: dict[str, Any], dropped: bool
) -> None:
    """A company table read from a relative SQLite file: a department's entry either keeps its source (and the
    company's folder, where the file is) or is refused for replacing it with the data folder's default file."""
    query = {
        "sql": {"url": "sqlite:///crm.sqlite", "query": "SELECT * FROM tickets"},
        "columns": {"complaint_id": "no"},
    }
    company, params = shared(tables={"complaints": query}), own_params(tables={"complaints": entry})
    if dropped:
        with pytest.raises(ParamsError) as raised:
            load(tmp_path, company, params)
        assert [p.code for p in raised.value.problems] == [Code.SOURCE_DROPPED], raised.value.lines()
        assert "tables.complaints: replaces the company file's entry (which reads its sql)" in str(raised.value)
        return
    department = load(tmp_path, company, params)
    mine = "sql" in entry or "file" in entry
    assert department.table_base("complaints") == (tmp_path / "params" if mine else tmp_path)
