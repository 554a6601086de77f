"""No command replaces a file it did not write itself without --force; ids short enough for every name made of them.

Each write command × a file already there that the command did not write: refused (exit 2, one line
naming the file and --force, nothing written), replaced with --force. A file the command wrote itself
(the same bytes, or recognisably its own) is fine. All in process: no kernel, no Chromium.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kpi_lib import cli, load_params
from kpi_lib.base.errors import Code, KpiError, ParamsError
from kpi_lib.base.files import refuse_replacing
from kpi_lib.base.layout import OLD_FOLDER, STAGING
from kpi_lib.base.text import ID_MAX, id_length_problem
from kpi_lib.batch.demo import write_demo
from kpi_lib.batch.runner import _declared_id, check_period_folder, not_ours

from .conftest import kpi
from .test_importer import write_sheet

FOREIGN = b"someone else's file\n"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("company")
    write_demo(root, departments=1, rows=20)
    return root


@pytest.fixture(scope="module")
def sheet(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = yaml.safe_load((company / "params" / "cs-east.yaml").read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("sheet") / "kpi.xlsx"
    write_sheet(path, source)
    return path


def _pdf_folder(root: Path) -> Path:
    """A period folder with one department's reader page (enough for `kpi pdf`; printing is stubbed)."""
    folder = root / "outputs" / "2026-Q3" / "cs-east"
    folder.mkdir(parents=True)
    (folder / "department.json").write_text("{}", encoding="utf-8")
    (folder / "scorecard.html").write_text("<html></html>", encoding="utf-8")
    return root / "outputs" / "2026-Q3"


# (name, the file a command writes under `root`, the command's args)
CASES: list[tuple[str, str, Callable[[Path, Path, Path], list[str]]]] = [
    (
        "template import: the skeleton (beside the template when --out is params/)",
        "templates/x.params.yaml",
        lambda root, sheet, company: ["template", "import", str(sheet), "--out", str(root / "params"), "--id", "x"],
    ),
    (
        "template import: the template",
        "templates/x.yaml",
        lambda root, sheet, company: ["template", "import", str(sheet), "--out", str(root / "params"), "--id", "x"],
    ),
    (
        "template import: --templates given",
        "tpl/x.yaml",
        lambda root, sheet, company: [
            "template",
            "import",
            str(sheet),
            "--out",
            str(root),
            "--templates",
            str(root / "tpl"),
            "--id",
            "x",
        ],
    ),  # fmt: skip
    (
        "calendar --ics",
        "cal.ics",
        lambda root, sheet, company: ["calendar", "--year", "2026", "--ics", str(root / "cal.ics")],
    ),
    (
        "demo: a params file",
        "params/cs-east.yaml",
        lambda root, sheet, company: ["demo", "--out", str(root), "--departments", "1", "--rows", "20"],
    ),
    (
        "pdf --out",
        "print/cs-east/scorecard.pdf",
        lambda root, sheet, company: ["pdf", str(_pdf_folder(root)), "--out", str(root / "print")],
    ),
]


@pytest.fixture
def stub_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(html: Path, pdf: Path, timeout: int = 120) -> None:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(b"%PDF-1.4\n/Creator (Mozilla/5.0 HeadlessChrome/1)\n/Producer (Skia/PDF m1)\n")

    monkeypatch.setattr(cli, "html_to_pdf", fake)
    monkeypatch.setattr(cli, "chromium", lambda: "chromium")


@pytest.mark.parametrize(("name", "target", "args"), CASES, ids=[c[0] for c in CASES])
def test_an_existing_file_is_refused_without_force_and_replaced_with_it(
    name: str,
    target: str,
    args: Callable[[Path, Path, Path], list[str]],
    tmp_path: Path,
    sheet: Path,
    company: Path,
    stub_pdf: None,
) -> None:
    command = args(tmp_path, sheet, company)
    path = tmp_path / target
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(FOREIGN)

    refused = kpi(*command, in_process=True)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert str(path) in refused.stderr and "--force" in refused.stderr, refused.stderr
    assert path.read_bytes() == FOREIGN  # left exactly as it was

    forced = kpi(*command, "--force", in_process=True)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert path.read_bytes() != FOREIGN

    again = kpi(*command, in_process=True)  # what the command wrote itself is no obstacle
    assert again.returncode == 0, again.stdout + again.stderr


def test_template_import_never_writes_where_kpi_run_all_looks(tmp_path: Path, sheet: Path) -> None:
    params = tmp_path / "params"
    params.mkdir()
    real = params / "cs-east.yaml"
    real.write_bytes(FOREIGN)
    done = kpi("template", "import", str(sheet), "--out", str(params), "--id", "cs-east", in_process=True)
    assert done.returncode == 0, done.stderr
    assert real.read_bytes() == FOREIGN  # the case: the real params file is untouched
    assert sorted(p.name for p in params.iterdir()) == ["cs-east.yaml"]  # kpi run --all finds only the real one
    assert (tmp_path / "templates" / "cs-east.yaml").is_file()
    skeleton = yaml.safe_load((tmp_path / "templates" / "cs-east.params.yaml").read_text(encoding="utf-8"))
    assert skeleton["template"] == "cs-east.yaml"

    into_params = kpi(
        "template", "import", str(sheet), "--out", str(tmp_path), "--templates", str(params), in_process=True
    )
    assert into_params.returncode == 2 and "kpi run --all reads every YAML file in params/" in into_params.stderr


def test_the_skeleton_finds_its_template_and_only_names_the_gaps(tmp_path: Path, sheet: Path) -> None:
    """The README recipe: import into drafts/ with templates/ beside; the skeleton moves into params/ as it is."""
    done = kpi(
        "template", "import", str(sheet), "--out", str(tmp_path / "drafts"), "--templates", str(tmp_path / "templates"),
        "--id", "cs_sheet", in_process=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    moved = tmp_path / "params" / "cs-sheet.yaml"
    moved.parent.mkdir()
    (tmp_path / "drafts" / "cs_sheet.params.yaml").rename(moved)
    checked = kpi("validate", str(moved), in_process=True)
    assert checked.returncode == 1
    assert "indicators.CS05.weight: empty" in checked.stderr
    assert "cannot read the template" not in checked.stderr


@pytest.mark.parametrize(
    ("held", "data", "ours", "refused"),
    [
        (None, b"x", None, False),  # nothing there
        (b"x", b"x", None, False),  # the same bytes
        (b"y", b"x", None, True),
        (b"BEGIN:VCALENDAR\r\nPRODID:mine", b"x", lambda b: b"PRODID:mine" in b, False),  # recognisably ours
        (b"y", None, None, True),  # bytes not known beforehand (a PDF): anything there is refused
    ],
)
def test_refuse_replacing(
    tmp_path: Path, held: bytes | None, data: bytes | None, ours: Callable[[bytes], bool] | None, refused: bool
) -> None:
    path = tmp_path / "f"
    if held is not None:
        path.write_bytes(held)
    if refused:
        with pytest.raises(KpiError, match="--force"):
            refuse_replacing(path, data, ours=ours)
    else:
        refuse_replacing(path, data, ours=ours)


def test_a_folder_in_a_departments_place_that_kpi_run_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    cases = {
        "free": (None, False),
        "empty folder": ("dir", False),
        "a run's folder": ("run", False),
        "a failed run's folder": ("failed", False),
        "someone's folder": ("foreign", True),
        "a file": ("file", True),
        "a link": ("link", True),
    }
    for name, (kind, refused) in cases.items():
        final = tmp_path / name.replace(" ", "-").replace("'", "")
        if kind in ("dir", "run", "failed", "foreign"):
            final.mkdir()
        if kind == "run":
            (final / "manifest.json").write_text("{}", encoding="utf-8")
        if kind == "failed":
            (final / "error.txt").write_text("failed", encoding="utf-8")
        if kind == "foreign":
            (final / "notes.docx").write_bytes(FOREIGN)
        if kind == "file":
            final.write_bytes(FOREIGN)
        if kind == "link":
            os.symlink(tmp_path, final)
        said = not_ours(final)
        assert bool(said) == refused, name
        if refused:
            assert str(final) in said and "refusing to replace it" in said


@pytest.mark.parametrize("loads", [True, False], ids=["valid params", "params that fail validation"])
def test_kpi_run_refuses_a_department_whose_place_holds_someone_elses_folder(
    company: Path, tmp_path: Path, loads: bool
) -> None:
    from kpi_lib.batch.runner import _Batch, _load
    from kpi_lib.inputs.period import Period

    text = (company / "params" / "cs-east.yaml").read_text(encoding="utf-8")
    text = text.replace("../data/demo", str(company / "data" / "demo"))
    params = tmp_path / "cs-east.yaml"
    params.write_text(text if loads else text.replace("weight: 5,", "weight: 500,", 1), encoding="utf-8")
    period_dir = tmp_path / "2026-Q4"
    (period_dir / "cs-east").mkdir(parents=True)
    (period_dir / "cs-east" / "notes.docx").write_bytes(FOREIGN)
    batch = _Batch(Period.parse("2026-Q4"), period_dir, tmp_path, 1, False, False, None)
    run, department = _load(params, batch)
    assert run.refused and run.final is None and department is None  # no folder: nothing is staged or swapped
    assert run.error.startswith(f"{period_dir / 'cs-east'}: a folder kpi run did not write")
    assert (len(run.error.splitlines()) > 1) == (not loads)  # the params' own problems follow when they failed


@pytest.mark.parametrize(
    ("files", "refused"),
    [
        ((), False),
        (("index.html",), True),
        (("summary.csv",), True),
        (("index.html", "manifest.json"), False),  # a period folder kpi run wrote
        (("notes.txt",), False),  # nothing the run writes
    ],
)
def test_a_period_folder_with_an_index_kpi_run_did_not_write_is_refused(
    tmp_path: Path, files: tuple[str, ...], refused: bool
) -> None:
    folder = tmp_path / "2026-Q4"
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes(FOREIGN)
    if refused:
        with pytest.raises(KpiError, match="not written by kpi run"):
            check_period_folder(folder)
        done = kpi("run", "--period", "2026-Q4", "--out", str(tmp_path), "x.yaml", in_process=True)
        assert done.returncode == 2 and "not written by kpi run" in done.stderr
    else:
        check_period_folder(folder)


# -- ids and the names made of them ---------------------------------------------------------------
@pytest.mark.parametrize(("length", "ok"), [(1, True), (ID_MAX, True), (ID_MAX + 1, False), (240, False), (300, False)])
def test_a_department_id_is_at_most_64_characters(company: Path, tmp_path: Path, length: int, ok: bool) -> None:
    text = (company / "params" / "cs-east.yaml").read_text(encoding="utf-8")
    ident = ("d" * length)[:length]
    path = tmp_path / "p.yaml"
    path.write_text(
        text.replace("department: cs-east", f"department: {ident}").replace(
            "../data/demo", str(company / "data" / "demo")
        ),
        encoding="utf-8",
    )
    if ok:
        assert load_params(path).id == ident
        return
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    problem = caught.value.problems[0]
    assert problem.code == Code.ID_TOO_LONG
    line = caught.value.lines()[0]
    assert str(path) in line and "department" in line and f"{length} characters long" in line and "at most 64" in line
    assert _declared_id(path) is None  # never names a folder of a failed run either
    checked = kpi("validate", str(path), in_process=True)
    assert checked.returncode == 1 and "id_too_long" not in checked.stdout and "at most 64" in checked.stderr


def test_template_names_and_import_ids_are_at_most_64_characters(tmp_path: Path, sheet: Path) -> None:
    assert id_length_problem("g" * ID_MAX) == ""
    assert "65 characters long" in id_length_problem("g" * 65)
    done = kpi("template", "import", str(sheet), "--out", str(tmp_path), "--id", "t" * 65, in_process=True)
    assert done.returncode == 2 and "65 characters long" in done.stderr
    from kpi_lib.inputs.template import load_template

    packaged = yaml.safe_load(Path(load_template().path).read_text(encoding="utf-8"))
    group = next(iter(packaged["groups"]))
    packaged["groups"]["g" * 65] = packaged["groups"].pop(group)
    for ind in packaged["indicators"]:
        if ind.get("group") == group:
            ind["group"] = "g" * 65
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(packaged, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KpiError) as caught:
        load_template(str(path))
    assert any("65 characters long" in line for line in caught.value.lines())


def test_every_name_made_of_the_longest_id_stays_well_under_255_bytes() -> None:
    ident = "d" * ID_MAX
    names = [
        f"{STAGING}{ident}",
        f".old-{ident}-20261206212426-{2**22}",  # as runner._swap names it (pid up to 4194304)
        f"{'0' * 64}.parquet",  # a full source in .sources/
        f"{'g' * ID_MAX}.audit.html",
        f"{'g' * ID_MAX}.ipynb",
        f"{'g' * ID_MAX}.pdf",
        "2026-12-06T21-24-26-99",  # a history entry
    ]
    assert OLD_FOLDER.fullmatch(names[1])
    for name in names:
        assert len(name.encode("utf-8")) < 128, name
    assert json.dumps(names)  # plain ASCII: an id holds no CJK, so characters are bytes
