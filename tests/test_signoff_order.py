"""Sign-off as the organisation runs it: the template's roles in order, once per evidence, rounds, every view.

The fast cases check the rules on their own (the template's `signoff:` roles, who may sign
next, rounds, times with their zone). The acceptance cases run one department once per
module (and once more, forced, for each case that changes the evidence between signatures),
then sign in every order: each step is signed or refused with the expected line, and at the
end the scorecard's HTML and xlsx show every signature of every round (superseded ones marked),
the index and summary say where the sign-off stands, and `kpi verify` passes. One case also
prints the PDFs before its last signature: `kpi sign` prints them again, and an edited PDF
fails verify.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpi_lib.audit.signoff import check_role, order_problem
from kpi_lib.base.errors import TemplateError, UsageError
from kpi_lib.base.files import sha256_file
from kpi_lib.base.layout import MANIFEST
from kpi_lib.inputs.signing import Round, local_time, rounds_of
from kpi_lib.inputs.template import SEED_ROLES, SignRole, Text, load_template

from .conftest import kpi

# -- the rules on their own ---------------------------------------------------------------------
BASE = load_template("customer_service")
TEMPLATE_TEXT = Path(BASE.path).read_text(encoding="utf-8")
SIGNOFF_BLOCK = re.compile(r"^signoff:\n(?:  - .*\n)+", re.MULTILINE)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("", ("manager", "supervisor")),  # no `signoff:`: the seed's roles
        (
            "signoff:\n  - {id: hr, zh: 人力资源, en: HR}\n  - {id: director, zh: 总监, en: Director}\n  - {id: ceo, zh: 总经理}\n",
            ("hr", "director", "ceo"),
        ),
        ("signoff:\n  - {id: hr, zh: 人力资源, en: HR}\n  - {id: hr, zh: 人事}\n", "signoff role hr: duplicate id"),
        ("signoff: []\n", "signoff: expected a list of roles"),
        ("signoff:\n  - {id: Big Boss, zh: 老板}\n", "signoff entry 1: id 'Big Boss'"),
        ("signoff: manager\n", "signoff: expected a list of roles"),
    ],
)
def test_a_template_declares_its_roles_in_order(tmp_path: Path, block: str, expected: Any) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SIGNOFF_BLOCK.sub(block, TEMPLATE_TEXT), encoding="utf-8")
    if isinstance(expected, tuple):
        assert tuple(r.id for r in load_template(str(path)).signoff) == expected
    else:
        with pytest.raises(TemplateError, match=re.escape(expected)):
            load_template(str(path))


def test_the_seed_signs_manager_then_supervisor() -> None:
    assert BASE.signoff == SEED_ROLES
    assert [(r.id, r.label("zh")) for r in BASE.signoff] == [("manager", "部门经理"), ("supervisor", "上级主管领导")]


THREE = (SignRole("hr", Text("人力资源", "HR")), SignRole("director", Text("总监", "Director")), *SEED_ROLES[1:])


def _round(*roles: str) -> Round:
    return Round(
        "a" * 64,
        [
            {"role": r, "name": f"{r} name", "time": "2026-12-06T13:28:26+00:00", "manifest_sha256": "a" * 64}
            for r in roles
        ],
        True,
    )


@pytest.mark.parametrize(
    ("roles", "signed", "role", "lang", "expected"),
    [
        (SEED_ROLES, (), "manager", "zh", ""),
        (SEED_ROLES, (), "supervisor", "zh", "部门经理 (manager) 须先于 上级主管领导 (supervisor) 签这份证据"),
        (
            SEED_ROLES,
            (),
            "supervisor",
            "en",
            "Department manager (manager) must sign this evidence before Supervising leader (supervisor)",
        ),
        (SEED_ROLES, ("manager",), "supervisor", "en", ""),
        (
            SEED_ROLES,
            ("manager",),
            "manager",
            "zh",
            "部门经理 (manager) manager name 已于 2026-12-06 21:28 (Asia/Shanghai, UTC+08:00) 签过这份证据",
        ),
        (
            SEED_ROLES,
            ("manager", "supervisor"),
            "supervisor",
            "en",
            "Supervising leader (supervisor) supervisor name already signed this evidence at 2026-12-06 21:28",
        ),
        (THREE, ("hr",), "supervisor", "zh", "总监 (director) 须先于 上级主管领导 (supervisor) 签这份证据"),
        (THREE, (), "director", "en", "HR (hr) must sign this evidence before Director (director)"),
        (THREE, ("hr", "director"), "supervisor", "zh", ""),
    ],
)
def test_a_role_signs_after_the_roles_before_it_and_once_said_in_the_departments_language(
    roles: tuple[SignRole, ...], signed: tuple[str, ...], role: str, lang: str, expected: str
) -> None:
    found = order_problem(roles, _round(*signed) if signed else None, role, "Asia/Shanghai", lang)
    assert (expected in found) if expected else found == ""


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("manger", "did you mean manager?"),
        ("Manager", "did you mean manager?"),
        ("ceo", "manager (部门经理), supervisor"),
    ],
)
def test_an_unknown_role_names_the_nearest_and_the_list(role: str, expected: str) -> None:
    with pytest.raises(UsageError, match=re.escape(expected)):
        check_role(SEED_ROLES, role)


@pytest.mark.parametrize(
    ("shas", "current", "expected"),
    [
        (["a", "a"], "a", [("a", 2, True)]),
        (["a", "a", "b"], "b", [("a", 2, False), ("b", 1, True)]),
        (["a", "b"], "c", [("a", 1, False), ("b", 1, False)]),  # re-run, nobody signed the new evidence yet
        (["a"], "", [("a", 1, False)]),  # a run being written: no manifest yet
        (["a", "b"], None, [("a", 1, False), ("b", 1, True)]),  # the caller does not know: the last is current
    ],
)
def test_rounds_are_runs_of_records_that_signed_one_manifest(
    shas: list[str], current: str | None, expected: list[tuple[str, int, bool]]
) -> None:
    rounds = rounds_of([{"manifest_sha256": s, "role": "manager"} for s in shas], current)
    assert [(r.manifest_sha256, len(r.records), r.current) for r in rounds] == expected


@pytest.mark.parametrize(
    ("time", "zone", "lang", "shown", "local"),
    [
        ("2026-12-06T13:28:26+00:00", "Asia/Shanghai", "en", "2026-12-06 21:28 (Asia/Shanghai, UTC+08:00)", (21, 28)),
        (
            "2026-07-01T12:00:00+00:00",
            "America/New_York",
            "en",
            "2026-07-01 08:00 (America/New_York, UTC-04:00)",
            (8, 0),
        ),
        ("2026-12-06T21:28:26", "Asia/Shanghai", "zh", "2026-12-06 21:28 (时区未知)", (21, 28)),  # an older record
        ("2026-12-06T21:28:26+08:00", "", "en", "2026-12-06 21:28 (UTC+08:00)", (21, 28)),
        ("yesterday", "Asia/Shanghai", "en", "yesterday (zone unknown)", None),
    ],
)
def test_a_signature_time_reads_in_the_departments_zone(
    time: str, zone: str, lang: str, shown: str, local: tuple[int, int] | None
) -> None:
    text, when = local_time(time, zone, lang)
    assert text == shown
    assert (None if when is None else (when.hour, when.minute)) == local


# -- acceptance: one department, signed in every order ------------------------------------------
class Company:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.params = root / "cs-west.yaml"
        self.out = root / "outputs"

    @property
    def period(self) -> Path:
        return self.out / "2026-Q4"

    @property
    def dept(self) -> Path:
        return self.period / "cs-west"

    def run(self, *extra: str) -> None:
        result = kpi("run", self.params, "--period", "2026-Q4", "--out", self.out, "--jobs", "2", *extra)
        assert result.returncode == 0, result.stderr

    def change_evidence(self) -> None:
        """One cs-west survey answer moves from 3 to 5, and the department runs again, forced (it is signed)."""
        path = self.root / "data" / "surveys.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if ",cs-west," in line and line.rstrip().endswith(",3"))
        lines[at] = lines[at].rstrip()[:-1] + "5\n"
        path.write_text("".join(lines), encoding="utf-8")
        self.run("--force", "--reason", "the evidence changed after signing")


@pytest.fixture(scope="module")
def pristine(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Company:
    company = Company(tmp_path_factory.mktemp("signoff"))
    shutil.copytree(demo_dir / "data" / "demo", company.root / "data")
    text = (
        (demo_dir / "params" / "cs-west.yaml").read_text(encoding="utf-8").replace("data: ../data/demo", "data: data")
    )
    company.params.write_text(text, encoding="utf-8")
    company.run()
    return company


@pytest.fixture
def company(pristine: Company, tmp_path: Path) -> Iterator[Company]:
    """A private copy of the run; its manifests point at the copy's inputs."""
    root = tmp_path / "company"
    shutil.copytree(pristine.root, root)
    copy = Company(root)
    for manifest in copy.out.rglob(MANIFEST):
        manifest.write_text(
            manifest.read_text(encoding="utf-8").replace(str(pristine.root), str(root)), encoding="utf-8"
        )
    period_manifest = json.loads((copy.period / MANIFEST).read_text(encoding="utf-8"))
    period_manifest["departments"]["cs-west"] = sha256_file(copy.dept / MANIFEST)
    (copy.period / MANIFEST).write_text(json.dumps(period_manifest), encoding="utf-8")
    yield copy


ZONE = "(Asia/Shanghai, UTC+08:00)"
REFUSED_FIRST = (
    "Department manager (manager) must sign this evidence before Supervising leader (supervisor)"  # cs-west: en
)
REFUSED_TWICE = "already signed this evidence at"

# Each step: ("sign", role, name, comment, refusal or "") or ("change",) or ("pdf",). `rounds`: the names each
# round shows at the end, earliest first (the last is the current one); `state`: what the summary says.
CASES = {
    "manager then supervisor": (
        [("sign", "manager", "张三", "同意", ""), ("sign", "supervisor", "李四", "同意，报人事", "")],
        [["张三", "李四"]],
        "fully signed",
    ),
    "supervisor first is refused": ([("sign", "supervisor", "李四", "", REFUSED_FIRST)], [[]], "unsigned"),
    "manager twice is refused": (
        [("sign", "manager", "张三", "同意", ""), ("sign", "manager", "王五", "再签", REFUSED_TWICE)],
        [["张三"]],
        "signed by Department manager",
    ),
    "supervisor after approving, again": (
        [
            ("sign", "manager", "张三", "", ""),
            ("sign", "supervisor", "李四", "同意", ""),
            ("sign", "supervisor", "李四", "", REFUSED_TWICE),
            ("sign", "manager", "张三", "改主意", REFUSED_TWICE),
        ],
        [["张三", "李四"]],
        "fully signed",
    ),
    "evidence changes after the manager": (
        [
            ("sign", "manager", "张三", "同意", ""),
            ("change",),
            ("sign", "supervisor", "李四", "", REFUSED_FIRST),
            ("sign", "manager", "王五", "复核同意", ""),
        ],
        [["张三"], ["王五"]],
        "signed by Department manager (an earlier round superseded)",
    ),
    "evidence changes after both, printed": (
        [
            ("sign", "manager", "张三", "同意", ""),
            ("sign", "supervisor", "李四", "同意", ""),
            ("change",),
            ("sign", "manager", "张三", "数据更正后同意", ""),
            ("pdf",),
            ("sign", "supervisor", "赵六", "复核同意", ""),
        ],
        [["张三", "李四"], ["张三", "赵六"]],
        "fully signed (an earlier round superseded)",
    ),
}


def _signoff_text(html: str) -> str:
    """The sign-off block of a report as text."""
    block = html[html.index('id="signoff"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block[: block.index("</section>")]))


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(path).pages))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_sign_off_in_order_and_every_view_shows_every_round(company: Company, case: str) -> None:
    steps, rounds, state = CASES[case]
    signed: list[tuple[str, str]] = []  # (name, comment) of every signature that went through
    for step in steps:
        if step[0] == "change":
            company.change_evidence()
            continue
        if step[0] == "pdf":
            assert kpi("pdf", company.dept, in_process=True).returncode == 0
            continue
        _, role, name, comment, refusal = step
        result = kpi("sign", company.dept, "--role", role, "--name", name, "--comment", comment, in_process=True)
        if refusal:
            assert result.returncode != 0 and refusal in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) == 1  # one line says why and who
        else:
            assert result.returncode == 0, result.stderr
            signed.append((name, comment))
    verified = kpi("verify", company.period, in_process=True)
    assert verified.returncode == 0, verified.stderr
    superseded = len(rounds) > 1
    assert ("superseded: it signed an earlier run" in verified.stdout) == superseded

    # scorecard.html and scorecard.audit.html: every signature, its comment and local time with the zone
    for page in ("scorecard.html", "scorecard.audit.html"):
        text = _signoff_text((company.dept / page).read_text(encoding="utf-8"))
        for name, comment in signed:
            assert name in text and comment in text
        assert text.count(ZONE) == len(signed)
        assert ("superseded" in text) == superseded
        if superseded:  # the earlier round's names come after its heading, the current round's before it
            current, earlier = text.split("superseded", 1)
            assert all(n in earlier for n in rounds[0]) and all(n in current for n in rounds[-1])

    # scorecard.xlsx: a signature's time is a date cell, with the zone beside it and the comment
    sheet = openpyxl.load_workbook(company.dept / "scorecard.xlsx").active
    rows = list(sheet.iter_rows())
    dated = [row for row in rows if isinstance(row[6].value, datetime)]
    assert sorted((row[2].value, row[9].value or "") for row in dated) == sorted(signed)
    assert all(
        row[6].number_format == "yyyy-mm-dd hh:mm" and row[8].value == "Asia/Shanghai, UTC+08:00" for row in dated
    )
    headings = [row[0].value for row in rows if isinstance(row[0].value, str) and "superseded" in row[0].value]
    assert len(headings) == len(rounds) - 1

    # the index and the summaries say where the sign-off stands
    summary = list(csv.DictReader(io.StringIO((company.period / "summary.csv").read_text(encoding="utf-8-sig"))))
    assert summary[0]["signoff"] == state
    assert f"class=signoff>{state}</small>" in (company.period / "index.html").read_text(encoding="utf-8")

    if ("pdf",) in steps:  # printed before the last signature: kpi sign printed it again
        text = _pdf_text(company.period / "pdf" / "cs-west" / "scorecard.pdf")
        for name, comment in signed:
            assert name in text and comment in text
        assert "superseded" in text and text.count("UTC+08:00") == len(signed)
        with (company.period / "pdf" / "cs-west" / "cost.pdf").open("ab") as handle:
            handle.write(b"%")
        edited = kpi("verify", company.period, in_process=True)
        assert edited.returncode == 1 and "pdf/cs-west/cost.pdf: printed report (PDF) changed" in edited.stderr
