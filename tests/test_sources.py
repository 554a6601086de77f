"""Real exports through column and value mappings, and the adapter escape hatch (params key `tables`)."""

from __future__ import annotations

import csv
import json
import math
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
import yaml

from kpi_lib import DataError, ParamsError, Period, appraise, load_params

from .conftest import Company, kpi

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT / "examples" / "telco" / "cs-telco.yaml"
TELCO_CSV = ROOT / "examples" / "telco" / "data" / "Telco-Customer-Churn.csv"


@pytest.mark.slow
def test_telco_export_scores_cs08_unchanged() -> None:
    result = kpi("score", str(TELCO), "--period", "2026-12", "--json")
    assert result.returncode == 0, result.stderr
    cs08 = json.loads(result.stdout)["indicators"][0]
    # Independently: active at 2026-12-01 = tenure of at least one month at the 2026-12-31 snapshot;
    # lost within December = Churn "Yes" among them.
    with TELCO_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    active = [r for r in rows if int(r["tenure"]) >= 1]
    lost = [r for r in active if r["Churn"] == "Yes"]
    share = Fraction(len(lost), len(active)) * 100
    assert (cs08["numerator"], cs08["denominator"]) == (len(lost), len(active)) == (1869, 7032)
    assert cs08["value"] == math.floor(share * 100 + Fraction(1, 2)) / 100 == 26.58
    assert cs08["score"] == 100 - 6 * 3  # target 20, 6 whole steps of 1% short, 3 points each


def export_company(company: Company, **mapping: object) -> Path:
    """A complaints export as a ticketing system writes it: its own headers, codes, date format, one sheet."""
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Export")
    sheet.append(["Ticket", "Opened", "Closed", "Happy?", "Agent"])
    sheet.append(["T-1", "05-10-2026 09:30", "06-10-2026 10:00", "Happy", "ann"])
    sheet.append(["T-2", "12-11-2026 14:00", "", "", "bob"])
    sheet.append(["T-3", "01-12-2026 08:00", "02-12-2026 08:00", "Unhappy", "ann"])
    sheet.append(["T-4", "31-12-2026 23:59", "01-01-2027 09:00", "Happy", "cid"])
    (company.data / "exports").mkdir(exist_ok=True)
    book.save(company.data / "exports" / "tickets.xlsx")
    source = {
        "file": "exports/tickets.xlsx",
        "sheet": "Export",
        "columns": {"complaint_id": "Ticket", "received_at": "Opened", "resolved_at": "Closed", "satisfied": "Happy?"},
        "values": {"satisfied": {"Happy": True, "Unhappy": False}},
        "constants": {"department": "cs-test"},
        "date_format": "%d-%m-%Y %H:%M",
        **mapping,
    }
    return company.params(tables={"complaints": source})


def test_a_mapped_export_loads_without_editing_it(company: Company) -> None:
    card = appraise(load_params(export_company(company)), Period.parse("2026-Q4")).to_json()
    cs07 = next(i for i in card["indicators"] if i["id"] == "CS07")
    assert (cs07["numerator"], cs07["denominator"], cs07["value"]) == (2, 4, 50.0)


def test_yes_and_no_codes_stay_text_in_yaml(company: Company) -> None:
    path = export_company(company)
    text = path.read_text(encoding="utf-8").replace("Happy: true", "Yes: true").replace("Unhappy: false", "No: false")
    path.write_text(text, encoding="utf-8")
    raw = yaml.safe_load(text)  # plain YAML 1.1 would read the keys as booleans
    assert True in raw["tables"]["complaints"]["values"]["satisfied"]
    source = load_params(path).base.tables["complaints"]
    assert set(source.values["satisfied"]) == {"Yes", "No"}


def test_an_unmapped_code_is_a_problem_naming_the_row(company: Company) -> None:
    path = export_company(company, values={"satisfied": {"Happy": True}})
    with pytest.raises(DataError) as caught:
        appraise(load_params(path), Period.parse("2026-Q4"))
    lines = caught.value.lines()
    assert any("tickets.xlsx!D4, column satisfied: found 'Unhappy', expected a boolean" in line for line in lines), (
        lines
    )


def test_a_wrong_date_format_names_the_format(company: Company) -> None:
    path = export_company(company, date_format="%Y-%m-%d %H:%M")
    with pytest.raises(
        DataError,
        match=r"tickets.xlsx!B2, column received_at: found '05-10-2026 09:30', expected a timestamp in the format %Y-%m-%d %H:%M",
    ):
        appraise(load_params(path), Period.parse("2026-Q4"))


def test_a_header_the_file_lacks(company: Company) -> None:
    path = export_company(
        company,
        columns={"complaint_id": "Ticket No", "received_at": "Opened", "resolved_at": "Closed", "satisfied": "Happy?"},
    )
    with pytest.raises(
        DataError,
        match=r"tickets.xlsx, row 1, column Ticket No: the mapping reads complaint_id from header 'Ticket No'",
    ):
        appraise(load_params(path), Period.parse("2026-Q4"))


def test_mapping_of_an_unknown_table_or_column_is_a_params_error(company: Company) -> None:
    with pytest.raises(ParamsError, match=r"tables.tickets: unknown table"):
        load_params(company.params(tables={"tickets": {"file": "x.csv"}}))
    with pytest.raises(ParamsError, match=r"tables.complaints.columns.happy: unknown column of complaints"):
        load_params(company.params(tables={"complaints": {"columns": {"happy": "Happy?"}}}))
    with pytest.raises(
        ParamsError, match=r"tables.complaints.adapter: found 'adapt.rb', expected \"file.py:function\""
    ):
        load_params(company.params(tables={"complaints": {"adapter": "adapt.rb"}}))


def test_a_failing_adapter_is_one_problem_naming_it(company: Company) -> None:
    (company.root / "broken.py").write_text("def adapt(raw, options):\n    return raw['nope']\n", encoding="utf-8")
    path = export_company(company, adapter="broken.py:adapt")
    with pytest.raises(DataError) as caught:
        appraise(load_params(path), Period.parse("2026-Q4"))
    assert caught.value.lines() == [
        f"{company.root / 'broken.py'}: adapter adapt() failed on {company.data / 'exports' / 'tickets.xlsx'}: KeyError: 'nope'"
    ]


def test_an_adapter_that_filters_keeps_row_numbers(company: Company) -> None:
    (company.root / "only_ann.py").write_text(
        "def adapt(raw, options):\n    return raw[raw['Agent'] == options['agent']]\n", encoding="utf-8"
    )
    path = export_company(
        company, adapter="only_ann.py:adapt", options={"agent": "ann"}, values={"satisfied": {"Happy": True}}
    )
    with pytest.raises(DataError) as caught:
        appraise(load_params(path), Period.parse("2026-Q4"))
    assert any(
        "tickets.xlsx!D4, column satisfied: found 'Unhappy'" in line for line in caught.value.lines()
    )  # T-3 is row 4 of the sheet
