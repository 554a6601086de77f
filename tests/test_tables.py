"""Reading and validating input tables (SPEC §3)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_lib import DataError, Period, appraise, load_params, load_template
from kpi_lib.base import files
from kpi_lib.base.files import sha256_bytes
from kpi_lib.batch.demo import TABLE_COLUMNS
from kpi_lib.inputs import readers
from kpi_lib.inputs.params import TableSource
from kpi_lib.inputs.tables import load_table

from .conftest import Company, write_csv

TEMPLATE = load_template()
COMPLAINTS = [
    {
        "complaint_id": "K1",
        "department": "cs-test",
        "received_at": "2026-10-01 09:00",
        "resolved_at": "2026-10-01 12:00:00",
        "satisfied": "是",
    },
    {
        "complaint_id": "K2",
        "department": "cs-test",
        "received_at": "2026-11-01 09:00",
        "resolved_at": "",
        "satisfied": "",
    },
    {
        "complaint_id": "K3",
        "department": "cs-test",
        "received_at": "2026-12-01 09:00",
        "resolved_at": "2026-12-03 09:00",
        "satisfied": "否",
    },
]
ZH_HEADERS = {c.name: c.alias for c in TEMPLATE.tables["complaints"].columns}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_with_chinese_headers_read_alike(tmp_path: Path, encoding: str) -> None:
    header = [ZH_HEADERS[c] for c in TABLE_COLUMNS["complaints"]]
    rows = [{ZH_HEADERS[k]: v for k, v in row.items()} for row in COMPLAINTS]
    write_csv(tmp_path / "complaints.csv", header, rows, encoding=encoding)
    table = load_table(tmp_path, TEMPLATE.tables["complaints"])
    assert table.problems == []
    assert table.frame["complaint_id"].tolist() == ["K1", "K2", "K3"]
    assert table.frame["satisfied"].tolist()[0] is True
    assert pd.isna(table.frame["satisfied"].tolist()[1])
    assert table.frame["_row"].tolist() == [2, 3, 4]


def test_scores_are_byte_identical_across_encodings(company: Company, tmp_path: Path) -> None:
    outputs = []
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        header = [ZH_HEADERS[c] for c in TABLE_COLUMNS["complaints"]]
        write_csv(
            company.data / "complaints.csv",
            header,
            [{ZH_HEADERS[k]: v for k, v in r.items()} for r in COMPLAINTS],
            encoding=encoding,
        )
        card = appraise(load_params(company.params()), Period.parse("2026-Q4"))
        outputs.append(json.dumps(card.to_json(), ensure_ascii=False))
    assert outputs[0] == outputs[1] == outputs[2]
    assert '"CS07"' in outputs[0]


def test_xlsx_with_real_dates_and_chinese_booleans(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["投诉编号", "部门", "投诉时间", "解决时间", "是否满意"])
    sheet.append(["K1", "cs-test", datetime(2026, 10, 1, 9, 30), datetime(2026, 10, 2, 9, 30), "是"])
    sheet.append(["K2", "cs-test", "2026-10-05 10:00", None, None])
    sheet.append([1003, "cs-test", datetime(2026, 10, 6, 8, 0), "2026-10-07 08:00:00", "否"])
    book.save(tmp_path / "complaints.xlsx")
    table = load_table(tmp_path, TEMPLATE.tables["complaints"])
    assert table.problems == []
    frame = table.frame
    assert frame["complaint_id"].tolist() == ["K1", "K2", "1003"]
    assert frame["received_at"].tolist()[0] == pd.Timestamp("2026-10-01 09:30")
    assert frame["satisfied"].tolist()[0] is True and frame["satisfied"].tolist()[2] is False


def test_parquet(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "entry_id": ["E1", "E2"],
            "department": ["cs-test", "cs-test"],
            "date": [pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-02")],
            "category": ["a", None],
            "amount": [12.5, 3.0],
            "approved_overrun": [False, True],
        }
    ).to_parquet(tmp_path / "expenses.parquet")
    table = load_table(tmp_path, TEMPLATE.tables["expenses"])
    assert table.problems == []
    assert table.frame["amount"].tolist() == [Decimal("12.5"), Decimal("3.0")]


def test_every_problem_is_gathered_with_file_row_column(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "surveys.csv",
        ["response_id", "department", "survey", "respondent", "date", "score"],
        [
            {
                "response_id": "R1",
                "department": "cs-test",
                "survey": "customer_satisfaction",
                "date": "2026-10-01",
                "score": "7",
            },
            {
                "response_id": "R2",
                "department": "cs-test",
                "survey": "customer_satisfaction",
                "date": "2026/10/02",
                "score": "4",
            },
            {
                "response_id": "R1",
                "department": "cs-test",
                "survey": "customer_satisfaction",
                "date": "2026-02-30",
                "score": "four",
            },
            {"response_id": "R4", "department": "", "survey": "x", "date": "2026-10-01", "score": "3"},
        ],
    )
    table = load_table(tmp_path, TEMPLATE.tables["surveys"])
    lines = [str(p) for p in table.problems]
    assert any("surveys.csv, row 2, column score: found '7', expected a number from 1 to 5" in line for line in lines)
    assert any("row 3, column date: found '2026/10/02', expected a date as YYYY-MM-DD" in line for line in lines)
    assert any("row 4, column date: found '2026-02-30'" in line for line in lines)
    assert any("row 4, column score: found 'four', expected a number" in line for line in lines)
    assert any("row 4, column response_id" in line and "already in row 2" in line for line in lines)
    assert any("row 5, column department: empty" in line for line in lines)
    assert len(lines) == 6


def test_negative_amount_and_reply_before_request(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "expenses.csv",
        TABLE_COLUMNS["expenses"],
        [{"entry_id": "E1", "department": "d", "date": "2026-10-01", "amount": "-5"}],
    )
    write_csv(
        tmp_path / "feedback.csv",
        TABLE_COLUMNS["feedback"],
        [
            {
                "feedback_id": "F1",
                "department": "d",
                "received_at": "2026-10-02 10:00",
                "responded_at": "2026-10-02 09:59",
            }
        ],
    )
    expenses = [str(p) for p in load_table(tmp_path, TEMPLATE.tables["expenses"]).problems]
    feedback = [str(p) for p in load_table(tmp_path, TEMPLATE.tables["feedback"]).problems]
    assert expenses == [
        f"{tmp_path / 'expenses.csv'}, row 2, column amount: found '-5', expected a number that is not negative"
    ]
    assert "row 2, column responded_at" in feedback[0] and "expected responded_at not before received_at" in feedback[0]


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "complaints.csv", ["complaint_id", "department", "received_at", "resolved_at"], [])
    problems = [str(p) for p in load_table(tmp_path, TEMPLATE.tables["complaints"]).problems]
    assert problems == [
        f"{tmp_path / 'complaints.csv'}, row 1, column satisfied: missing column; expected a header satisfied (or 是否满意)"
    ]
    problems = [str(p) for p in load_table(tmp_path, TEMPLATE.tables["expenses"]).problems]
    assert "missing file; expected expenses.csv, .xlsx or .parquet" in problems[0]


def test_bad_rows_fail_their_department_with_every_problem(company: Company) -> None:
    company.table(
        "communications",
        [
            {"message_id": "M1", "created_at": "2026-10-01 9:00", "sent_at": ""},
            {"message_id": "M2", "created_at": "2026-10-01 09:00", "sent_at": "soon"},
        ],
    )
    company.table(
        "surveys", [{"response_id": "R1", "survey": "customer_satisfaction", "date": "2026-10-01", "score": "0"}]
    )
    with pytest.raises(DataError) as caught:
        appraise(load_params(company.params()), Period.parse("2026-Q4"))
    lines = caught.value.lines()
    assert len(lines) == 3
    assert any("communications.csv, row 2, column created_at" in line for line in lines)
    assert any("surveys.csv, row 2, column score: found '0'" in line for line in lines)


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_csv(tmp_path / "complaints.csv", TABLE_COLUMNS["complaints"], [])
    original = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == "complaints.csv":
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    table = load_table(tmp_path, TEMPLATE.tables["complaints"])
    assert [str(p) for p in table.problems] == [
        f"{tmp_path / 'complaints.csv'}: cannot read the file: Permission denied; check that it exists and may be read"
    ]


COMPLAINT = {
    "complaint_id": "K1",
    "department": "cs-east",
    "received_at": "2026-10-01 09:00",
    "resolved_at": "2026-10-01 10:00",
    "satisfied": "yes",
}


def _complaints_file(folder: Path, suffix: str) -> Path:
    header = TABLE_COLUMNS["complaints"]
    if suffix == ".csv":
        return write_csv(folder / "complaints.csv", header, [COMPLAINT])
    if suffix == ".xlsx":
        book = openpyxl.Workbook()
        book.active.append(header)
        book.active.append([COMPLAINT[c] for c in header])
        book.save(folder / "complaints.xlsx")
        return folder / "complaints.xlsx"
    pd.DataFrame([COMPLAINT], columns=header).to_parquet(folder / "complaints.parquet", index=False)
    return folder / "complaints.parquet"


@pytest.mark.parametrize("mapped", [False, True])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_table_file_is_read_once_for_its_sha256_and_its_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, mapped: bool
) -> None:
    path = _complaints_file(tmp_path, suffix)
    data = path.read_bytes()
    original = Path.read_bytes
    reads: list[Path] = []

    def once(self: Path) -> bytes:  # the file is gone once read: a second read of it would fail
        if self == path:
            reads.append(self)
            content = original(self)
            self.unlink()
            return content
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", once)
    source = TableSource(file=path.name, columns={"complaint_id": "complaint_id"}) if mapped else None
    table = load_table(tmp_path, TEMPLATE.tables["complaints"], source)
    assert table.problems == [] and len(table.frame) == 1
    assert table.sha256 == sha256_bytes(data) and reads == [path]


def test_file_sha256_reuses_the_hash_of_the_read_while_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _complaints_file(tmp_path, ".csv")
    _, sha = readers.read_hashed(path)
    with monkeypatch.context() as m:
        m.setattr(files, "sha256_file", lambda p: pytest.fail(f"{p} hashed again"))
        assert readers.file_sha256(path) == sha
    path.write_text(path.read_text(encoding="utf-8") + "K2,cs-east,2026-10-02 09:00,,no\n", encoding="utf-8")
    assert readers.file_sha256(path) == sha256_bytes(path.read_bytes()) != sha
