"""`kpi init`: the company folder it writes, the folders it refuses, and what `--from` proposes from exports' headers."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook

from kpi_lib import load_params
from kpi_lib.base.errors import Code, ParamsError
from kpi_lib.batch.scaffold import Export, match_columns, propose, relocated_url, squeezed
from kpi_lib.inputs.schemas import LINE_PREFIX
from kpi_lib.inputs.tables import DataFolder
from kpi_lib.inputs.template import Column, TableSpec, Text, load_template

from .conftest import kpi

TEMPLATE = load_template()
COMPLAINTS = TEMPLATE.tables["complaints"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("received_at", "receivedat"),
        ("Received at", "receivedat"),
        (" RECEIVED-AT ", "receivedat"),
        ("Satisfied?", "satisfied"),
        ("是否满意？", "是否满意"),
        ("投诉 编号", "投诉编号"),
        ("ｃｏｍｐｌａｉｎｔ", "complaint"),  # full-width letters fold to ASCII
    ],
)
def test_squeezed_keeps_only_letters_and_digits_folded(text: str, expected: str) -> None:
    assert squeezed(text) == expected


@pytest.mark.parametrize(
    ("headers", "found", "ambiguous", "unused"),
    [
        pytest.param(["complaint_id"], {"complaint_id": ("complaint_id", "name")}, {}, [], id="exact name"),
        pytest.param(["COMPLAINT_ID"], {"complaint_id": ("COMPLAINT_ID", "name")}, {}, [], id="name in capitals"),
        pytest.param(["投诉编号"], {"complaint_id": ("投诉编号", "zh alias")}, {}, [], id="zh alias"),
        pytest.param(
            ["Complaint ID"], {"complaint_id": ("Complaint ID", "name written differently")}, {}, [], id="en words"
        ),
        pytest.param(
            ["complaint-id "], {"complaint_id": ("complaint-id ", "name written differently")}, {}, [], id="dash, space"
        ),
        pytest.param(
            ["投诉 编号"], {"complaint_id": ("投诉 编号", "zh alias written differently")}, {}, [], id="zh with a space"
        ),
        pytest.param(
            ["是否满意？"], {"satisfied": ("是否满意？", "zh alias written differently")}, {}, [], id="zh full-width ?"
        ),
        pytest.param(
            ["complaint_id", "Complaint ID"],
            {"complaint_id": ("complaint_id", "name")},
            {},
            ["Complaint ID"],
            id="the exact match wins over a variant",
        ),
        pytest.param(
            ["Complaint ID", "complaint id"],
            {},
            {"complaint_id": ["Complaint ID", "complaint id"]},
            [],
            id="two variants tie: ambiguous",
        ),
        pytest.param(
            ["complaint_id", "投诉编号"],
            {},
            {"complaint_id": ["complaint_id", "投诉编号"]},
            [],
            id="name and zh alias tie: ambiguous",
        ),
        pytest.param(["Ticket", "Team"], {}, {}, ["Ticket", "Team"], id="nothing matches"),
    ],
)
def test_match_columns(
    headers: list[str], found: dict[str, tuple[str, str]], ambiguous: dict[str, list[str]], unused: list[str]
) -> None:
    match = match_columns(COMPLAINTS, headers)
    assert match.found == found
    assert match.ambiguous == ambiguous
    assert match.unused == unused
    assert set(match.missing) == {c.name for c in COMPLAINTS.columns} - set(found) - set(ambiguous)


def test_a_header_two_columns_match_is_ambiguous_for_both() -> None:
    spec = TableSpec("t", Text("表", "t"), (Column("item_id", "str", alias="编号"), Column("ref", "str", alias="编号")))
    match = match_columns(spec, ["编号"])
    assert match.found == {}
    assert match.ambiguous == {"item_id": ["编号"], "ref": ["编号"]}


def _export(name: str, frame: pd.DataFrame) -> Export:
    return Export(name, [str(c) for c in frame.columns], frame, path=Path(name))


DEMO_COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["K1", "K2"],
        "department": ["cs-east", "cs-north"],
        "received_at": ["2026-10-01 09:00:00", "2026-10-02 09:00:00"],
        "resolved_at": ["", ""],
        "satisfied": ["", ""],
    }
)
TICKETS = pd.DataFrame(
    {
        "Complaint ID": ["T1", "T2"],
        "部门": ["East", "East"],
        "Received at": ["2026-10-01 09:00:00", "2026-10-02 09:00:00"],
        "Resolved at": ["", ""],
        "Satisfied?": ["Y", "N"],
    }
)


@pytest.mark.parametrize(
    ("name", "frame", "entry", "confirm"),
    [
        pytest.param("complaints.csv", DEMO_COMPLAINTS, {}, False, id="named and headed like the table: read as it is"),
        pytest.param(
            "export.csv", DEMO_COMPLAINTS, {"file": "export.csv"}, True, id="another file name: an entry to confirm"
        ),
        pytest.param(
            "tickets.csv",
            TICKETS,
            {
                "file": "tickets.csv",
                "values": {"department": {"East": "cs-east"}},
                "columns": {
                    "complaint_id": "Complaint ID",
                    "received_at": "Received at",
                    "resolved_at": "Resolved at",
                    "satisfied": "Satisfied?",
                    "department": "部门",
                },
            },
            True,
            id="headers written differently and one department code",
        ),
    ],
)
def test_propose_places_an_export_with_the_entry_it_needs(
    name: str, frame: pd.DataFrame, entry: dict[str, object], confirm: bool
) -> None:
    proposal = propose([_export(name, frame)], TEMPLATE, "cs-east")
    assert proposal.unplaced == []
    (placed,) = proposal.placed
    assert placed.table == "complaints"
    assert placed.entry == entry
    assert bool(placed.why) is confirm


@pytest.mark.parametrize(
    ("exports", "unplaced"),
    [
        pytest.param(
            [("foo.csv", pd.DataFrame({"a": [1], "b": [2]}))], ["foo.csv: its headers (a, b) match no table"], id="none"
        ),
        pytest.param(
            [("x.csv", pd.DataFrame({"department": ["d"], "period": ["2026"]}))],
            ["x.csv: matches the tables budgets and observations equally"],
            id="two tables tie",
        ),
        pytest.param(
            [("complaints.csv", DEMO_COMPLAINTS), ("tickets.csv", TICKETS)],
            ["complaints.csv and tickets.csv: all match table complaints"],
            id="two exports for one table",
        ),
    ],
)
def test_propose_lists_what_it_cannot_place(exports: list[tuple[str, pd.DataFrame]], unplaced: list[str]) -> None:
    proposal = propose([_export(n, f) for n, f in exports], TEMPLATE, "cs-east")
    assert proposal.placed == []
    assert [line[: len(want)] for line, want in zip(proposal.unplaced, unplaced, strict=True)] == unplaced


def test_a_tie_is_broken_only_by_a_file_named_for_the_table() -> None:
    proposal = propose([_export("budgets.csv", pd.DataFrame({"department": ["d"], "period": ["2026"]}))], TEMPLATE, "d")
    assert [p.table for p in proposal.placed] == ["budgets"]


def test_several_department_values_without_ours_are_listed_not_mapped() -> None:
    frame = TICKETS.assign(部门=["East", "West"])
    (placed,) = propose([_export("tickets.csv", frame)], TEMPLATE, "cs-east").placed
    assert "values" not in placed.entry
    assert "department" not in placed.entry["columns"]
    assert any("'East' (1 rows), 'West' (1 rows)" in line for line in placed.comments)
    assert any("none of them is cs-east" in line for line in placed.comments)


# -- the folder ------------------------------------------------------------------------------------------
def test_init_writes_a_company_folder_that_loads(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    result = kpi("init", str(root), "--department", "cs-east", "--name", "East desk", "--lang", "en", in_process=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "README.md",
        "company.yaml",
        "data",
        "params",
        "params/cs-east.yaml",
        "schemas",
        "schemas/company.schema.json",
        "schemas/params.schema.json",
        "schemas/template.schema.json",
    ]
    department = load_params(root / "params" / "cs-east.yaml")
    assert (department.id, department.base.name, department.base.lang) == ("cs-east", "East desk", "en")
    assert department.data_folder == (root / "data").resolve()
    for yaml_file in (root / "company.yaml", root / "params" / "cs-east.yaml"):
        first = yaml_file.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(LINE_PREFIX)
        assert (yaml_file.parent / first.removeprefix(LINE_PREFIX)).is_file()
    assert "Appraise your own department" in (root / "README.md").read_text(encoding="utf-8")
    assert "kpi validate params/cs-east.yaml" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["{full}"], "{full}: not empty (x.txt); kpi init writes only into a new or empty folder", id="full"
        ),
        pytest.param(["{file}"], "{file}: a file, not a folder", id="a file"),
        pytest.param(["{new}", "--department", "CS East"], "--department 'CS East': expected lowercase", id="bad id"),
        pytest.param(["{new}", "--lang", "fr"], "--lang 'fr': expected zh or en", id="language"),
        pytest.param(["{new}", "--from"], "--from: expected one or more exports", id="--from alone"),
        pytest.param(
            ["{new}", "a.csv"], "got 1 argument(s) after the folder; to map exports, write --from", id="no --from"
        ),
        pytest.param(["{new}", "--from", "missing.csv"], "--from missing.csv: no such file", id="no export"),
        pytest.param(
            ["{new}", "--from", "sqlite:///x.sqlite"], "expected a database URL and a table, URL#table", id="no table"
        ),
    ],
)
def test_init_refuses_with_one_line_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("mine")
    (tmp_path / "file").write_text("mine")
    names = {k: str(tmp_path / k) for k in ("full", "file", "new")}
    result = kpi("init", *(a.format(**names) for a in args), in_process=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message.format(**names) in result.stderr
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "full" / "x.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///exports/crm.sqlite", "sqlite:///../exports/crm.sqlite"),
        ("sqlite:////srv/crm.sqlite", "sqlite:////srv/crm.sqlite"),
        ("sqlite+pysqlite:///crm.sqlite", "sqlite+pysqlite:///../crm.sqlite"),
        ("postgresql://kpi@db/crm", "postgresql://kpi@db/crm"),
        ("${CRM_URL}", "${CRM_URL}"),
    ],
)
def test_a_relative_sqlite_path_is_made_relative_to_the_company_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert relocated_url(url, Path("acme")) == expected


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    assert kpi("init", str(tmp_path), in_process=True).returncode == 0
    assert load_params(tmp_path / "params" / "my-department.yaml").id == "my-department"


# -- --from, end to end: files of every kind and a database table ----------------------------------------
def _exports(folder: Path) -> list[str]:
    folder.mkdir()
    TICKETS.to_csv(folder / "tickets.csv", index=False)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Accounts"
    sheet.append(["客户编号", "部门", "客户名称", "起始日期", "流失日期"])
    sheet.append(["A1", "cs-east", "大客户1", "2020-01-01", None])
    plan = book.create_sheet("Plan")
    plan.append(["Item ID", "Department", "Title", "Planned date", "Completed date", "Excused", "Excuse reason"])
    plan.append(["P1", "cs-east", "制度", "2026-10-20", "2026-10-18", "否", None])
    book.save(folder / "book.xlsx")
    pd.DataFrame({"department": ["cs-east"], "period": ["2026-Q4"], "amount": ["180000.00"]}).to_parquet(
        folder / "budgets.parquet"
    )
    with sqlite3.connect(folder / "crm.sqlite") as db:
        db.execute(
            "CREATE TABLE revisits (customer_id TEXT, department TEXT, key_account INT, planned_date TEXT, done_date TEXT)"
        )
        db.execute("INSERT INTO revisits VALUES ('C1', 'cs-east', 1, '2026-10-01', '2026-10-03')")
    db.close()
    return [
        str(folder / "tickets.csv"),
        str(folder / "book.xlsx"),
        str(folder / "budgets.parquet"),
        f"sqlite:///{folder / 'crm.sqlite'}#revisits",
    ]


def test_init_from_exports_proposes_entries_that_validate_names_until_confirmed(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    result = kpi("init", str(root), "-d", "cs-east", "--from", *_exports(tmp_path / "exports"), in_process=True)
    assert result.returncode == 0, result.stderr
    assert "(under suggested:): policy_plan, revisits, complaints, key_accounts\n" in result.stdout
    assert sorted(p.name for p in (root / "data").iterdir()) == ["book.xlsx", "budgets.parquet", "tickets.csv"]
    with pytest.raises(ParamsError) as refused:
        load_params(root / "params" / "cs-east.yaml")
    unconfirmed = [p for p in refused.value.problems if p.code == Code.UNCONFIRMED_SUGGESTION]
    assert [p.message.split(": ")[1] for p in unconfirmed] == [
        "suggested.tables.policy_plan",
        "suggested.tables.revisits",
        "suggested.tables.complaints",
        "suggested.tables.key_accounts",
    ]
    assert all(p.file == str((root / "company.yaml").resolve()) and p.message.startswith("line ") for p in unconfirmed)
    assert "delete this line under suggested: to confirm it" in unconfirmed[0].message
    assert refused.value.problems == unconfirmed  # nothing else is wrong with the files
    checked = kpi("validate", str(root / "params" / "cs-east.yaml"), in_process=True)
    assert checked.returncode == 1
    assert checked.stderr.count("suggested.tables.") == 4 and checked.stderr.startswith("kpi: ")

    text = (root / "company.yaml").read_text(encoding="utf-8")
    (root / "company.yaml").write_text(text.split("# Each line below names")[0], encoding="utf-8")
    department = load_params(root / "params" / "cs-east.yaml")
    assert department.base.tables["complaints"].values == {"department": {"East": "cs-east"}}
    assert department.base.tables["key_accounts"].sheet == "Accounts"
    assert department.base.tables["revisits"].sql is not None
    assert "budgets" not in department.base.tables  # its name and headers are the table's: read as it is
    from kpi_lib.inputs.period import Period

    data = DataFolder.of(department, Period.parse("2026-Q4"))
    for table in ("key_accounts", "policy_plan", "budgets", "revisits"):
        assert data.table(table).problems == [], table
    # the codes of satisfied are the person's to map (the comment above the entry names them): never guessed
    assert [(p.column, p.value) for p in data.table("complaints").problems] == [("satisfied", "Y"), ("satisfied", "N")]
    assert "# satisfied ('Satisfied?') holds 'Y' (1 rows), 'N' (1 rows), which are no yes/no words" in text


@pytest.mark.parametrize(
    ("cells", "comment"),
    [
        pytest.param(
            {"received_at": ["07/06/2026 09:12"]},
            "received_at ('received_at') holds '07/06/2026 09:12', which is not written YYYY-MM-DD HH:MM[:SS]",
            id="a date format to give",
        ),
        pytest.param({"received_at": ["2026-07-06 09:12"]}, None, id="ISO timestamps need nothing"),
        pytest.param({"received_at": [datetime(2026, 7, 6, 9, 12)]}, None, id="typed timestamps need nothing"),
        pytest.param(
            {"satisfied": ["Y"]}, "satisfied ('satisfied') holds 'Y' (1 rows), which are no yes/no words", id="codes"
        ),
        pytest.param({"satisfied": ["是"]}, None, id="a yes/no word"),
        pytest.param(
            {"department": [101]}, "department values in 'department': '101' (1 rows)", id="a number as department"
        ),
    ],
)
def test_what_the_cells_need_is_named_above_the_entry(cells: dict[str, list[object]], comment: str | None) -> None:
    row = {"complaint_id": ["K1"], "department": ["cs-east"], "received_at": ["2026-07-06 09:12"], **cells}
    frame = pd.DataFrame({**row, "resolved_at": [None], "satisfied": cells.get("satisfied", [None])})
    (placed,) = propose([_export("complaints.csv", frame)], TEMPLATE, "cs-east").placed
    said = [line for line in placed.comments if comment is not None and line.startswith(comment)]
    if comment is None:
        assert not any("which" in line for line in placed.comments), placed.comments
    else:
        assert said, placed.comments


def test_two_exports_of_one_name_are_refused(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        DEMO_COMPLAINTS.to_csv(tmp_path / folder / "complaints.csv", index=False)
    result = kpi(
        "init", str(tmp_path / "new"), "--from", *(str(tmp_path / f / "complaints.csv") for f in "ab"), in_process=True
    )
    assert result.returncode == 2
    assert "--from: two exports named complaints.csv; data/ keeps one file of each name" in result.stderr
    assert not (tmp_path / "new").exists()


def test_init_lists_what_it_could_not_place(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(tmp_path / "foo.csv", index=False)
    result = kpi("init", str(tmp_path / "new"), "--from", str(tmp_path / "foo.csv"), in_process=True)
    assert result.returncode == 0, result.stderr
    assert (
        f"not placed (not copied into data/): {tmp_path / 'foo.csv'}: its headers (a, b) match no table's columns"
        in result.stdout
    )
    assert "# not placed (not copied into data/):" in (tmp_path / "new" / "company.yaml").read_text(encoding="utf-8")
    assert load_params(tmp_path / "new" / "params" / "my-department.yaml").base.tables == {}


# -- what --from must never guess, and what must never reach the YAML (red-team classes) ------------------------
@pytest.mark.parametrize(
    ("value", "proposed"),
    [
        pytest.param("East", True, id="a code that can be no department id: proposed, to confirm"),
        pytest.param("一组", True, id="a Chinese team code: proposed, to confirm"),
        pytest.param("cs-north", False, id="another department's id: its rows are cs-north's"),
        pytest.param("101", False, id="digits: a department id as written"),
        pytest.param("n1", False, id="lowercase code: a department id as written"),
    ],
)
def test_the_one_department_value_is_proposed_only_when_it_can_be_no_department(value: str, proposed: bool) -> None:
    (placed,) = propose([_export("tickets.csv", TICKETS.assign(部门=[value, value]))], TEMPLATE, "cs-east").placed
    assert (placed.entry.get("values") == {"department": {value: "cs-east"}}) is proposed
    if not proposed:
        assert "department" not in placed.entry["columns"]
        assert any(
            f"{value!r} is a department id of its own, so these rows are {value}'s" in c for c in placed.comments
        )


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c"])
def test_a_header_cannot_add_a_line_to_company_yaml(tmp_path: Path, brk: str) -> None:
    # an export kpi init cannot place is named in a comment with its headers: a line break in one (Excel's Alt+Enter,
    # or a crafted header) must not end the comment and add a key of its own, such as grades that change a grade
    header = f"说明{brk}grades: [{{grade: E, min: 0, label: 不合格}}]  #"
    pd.DataFrame({header: ["x"], f"统计{brk}月份": ["y"]}).to_csv(tmp_path / "summary.csv", index=False)
    result = kpi("init", str(tmp_path / "new"), "--from", str(tmp_path / "summary.csv"), in_process=True)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "new" / "company.yaml").read_text(encoding="utf-8")
    assert set(yaml.safe_load(text)) == {"template", "data", "timezone", "calendar", "policy"}
    assert repr(brk)[1:-1] in text and "# not placed" in text


def _link(tmp_path: Path, name: str, to: Path) -> Path:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).symlink_to(to)
    return tmp_path / name


@pytest.mark.parametrize(
    ("exports", "message"),
    [
        pytest.param(
            ["a/complaints.csv", "a/../a/complaints.csv"], "are one file; give each export once", id="one file twice"
        ),
        pytest.param(["a/complaints.csv", "link/complaints.csv"], "two exports named complaints.csv", id="a link"),
    ],
)
def test_exports_that_would_share_a_file_in_data_are_refused(tmp_path: Path, exports: list[str], message: str) -> None:
    (tmp_path / "a").mkdir()
    DEMO_COMPLAINTS.to_csv(tmp_path / "a" / "complaints.csv", index=False)
    TICKETS.to_csv(tmp_path / "a" / "feedback.csv", index=False)
    _link(tmp_path, "link/complaints.csv", tmp_path / "a" / "feedback.csv")
    result = kpi("init", str(tmp_path / "new"), "--from", *(str(tmp_path / e) for e in exports), in_process=True)
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert message in result.stderr
    assert not (tmp_path / "new").exists()


def test_a_link_to_nothing_is_refused_as_the_folder(tmp_path: Path) -> None:
    link = _link(tmp_path, "dangling", tmp_path / "nowhere")
    result = kpi("init", str(link), in_process=True)
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert "a link to" in result.stderr and "which does not exist" in result.stderr
