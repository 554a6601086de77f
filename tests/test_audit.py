"""The audit trail: manifests, verify, sign-off, history, diff and the Excel exports (SPEC §8)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from kpi_lib.base.files import sha256_file
from kpi_lib.base.layout import MANIFEST

from .conftest import kpi


class Company:
    def __init__(self, root: Path, demo_dir: Path) -> None:
        self.root = root
        self.data = root / "data"
        shutil.copytree(demo_dir / "data" / "demo", self.data)
        self.params = root / "cs-west.yaml"
        text = (
            (demo_dir / "params" / "cs-west.yaml")
            .read_text(encoding="utf-8")
            .replace("data: ../data/demo", "data: data")
        )
        self.params.write_text(text, encoding="utf-8")
        self.out = root / "outputs"

    @property
    def period(self) -> Path:
        return self.out / "2026-Q4"

    @property
    def dept(self) -> Path:
        return self.period / "cs-west"

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return kpi("run", str(self.params), "--period", "2026-Q4", "--out", str(self.out), "--jobs", "2", *extra)

    def verify(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return kpi("verify", str(self.period), *extra)


@pytest.fixture(scope="module")
def pristine(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Company:
    company = Company(tmp_path_factory.mktemp("audit"), demo_dir)
    result = company.run()
    assert result.returncode == 0, result.stderr
    return company


@pytest.fixture
def company(pristine: Company, tmp_path: Path) -> Iterator[Company]:
    """A private copy of the run (data, params and outputs), so each test may tamper freely."""
    root = tmp_path / "company"
    shutil.copytree(pristine.root, root)
    copy = Company.__new__(Company)
    copy.root, copy.data, copy.params, copy.out = root, root / "data", root / "cs-west.yaml", root / "outputs"
    for manifest in copy.out.rglob(MANIFEST):  # the copy's manifests must point at the copy's inputs
        text = manifest.read_text(encoding="utf-8").replace(str(pristine.root), str(root))
        manifest.write_text(text, encoding="utf-8")
    period_manifest = json.loads((copy.period / MANIFEST).read_text(encoding="utf-8"))
    period_manifest["departments"]["cs-west"] = sha256_file(copy.dept / MANIFEST)
    (copy.period / MANIFEST).write_text(json.dumps(period_manifest), encoding="utf-8")
    yield copy


@pytest.mark.slow
def test_a_fresh_run_verifies_with_recompute(company: Company) -> None:
    result = company.verify("--recompute")
    assert result.returncode == 0, result.stderr
    assert "match their manifests and every score recomputed" in result.stdout


@pytest.mark.slow
def test_manifest_contents(company: Company) -> None:
    manifest = json.loads((company.dept / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["department"] == "cs-west" and manifest["period"] == "2026-Q4" and manifest["status"] == "ok"
    tables = {t["table"] for t in manifest["inputs"]["tables"]}
    assert {"communications", "budgets", "surveys"} <= tables and "observations" not in tables
    assert manifest["inputs"]["params"]["sha256"] == sha256_file(company.params)
    assert manifest["effective_params"]["indicators"]["CS04"]["target"] == "95"
    assert {"python", "pandas", "papermill", "kpi-appraisal"} <= set(manifest["packages"])
    assert manifest["toolkit"]["git_commit"]
    assert {"result.json", "service.ipynb", "service.html", "management.audit.html"} <= set(manifest["outputs"])
    assert set(manifest["views"]) == {"scorecard.html", "scorecard.audit.html", "scorecard.xlsx"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("data/communications.csv", "communications.csv: input changed"),
        ("outputs/2026-Q4/cs-west/result.json", "result.json: output changed"),
        ("outputs/2026-Q4/cs-west/service.html", "service.html: output changed"),
        ("outputs/2026-Q4/cs-west/scorecard.html", "scorecard.html: output changed"),
        (
            "outputs/2026-Q4/cs-west/inputs/tables/surveys.parquet",
            "inputs/tables/surveys.parquet: recorded input copy changed",
        ),
        ("outputs/2026-Q4/cs-west/inputs/sources.json", "inputs/sources.json: recorded input copy changed"),
        ("outputs/2026-Q4/.sources/*.csv", "stored source of"),
        ("outputs/2026-Q4/index.html", "index.html: output changed"),
        ("cs-west.yaml", "cs-west.yaml: input changed"),
    ],
)
def test_one_changed_byte_is_detected_and_named(company: Company, target: str, expected: str) -> None:
    path = next(company.root.glob(target)) if "*" in target else company.root / target
    data = bytearray(path.read_bytes())
    data[len(data) * 9 // 10] ^= 0x01  # in the demo's data, a cs-west row (another department's is only a note)
    path.write_bytes(bytes(data))
    result = company.verify()
    assert result.returncode == 1
    assert any(expected in line and "expected sha256" in line for line in result.stderr.splitlines()), result.stderr


@pytest.mark.slow
def test_deleted_and_added_outputs_are_named(company: Company) -> None:
    (company.dept / "cost.ipynb").unlink()
    (company.dept / "notes.txt").write_text("added later", encoding="utf-8")
    result = company.verify()
    assert result.returncode == 1
    assert "cost.ipynb: output deleted" in result.stderr
    assert "notes.txt: output added (not in the manifest)" in result.stderr


@pytest.mark.slow
def test_recompute_catches_a_hand_edited_score_even_with_fixed_hashes(company: Company) -> None:
    result_file = company.dept / "result.json"
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["indicators"][3]["score"] = 100.0
    result_file.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    manifest = json.loads((company.dept / MANIFEST).read_text(encoding="utf-8"))
    manifest["outputs"]["result.json"] = sha256_file(result_file)  # a forger who also fixes the hash
    (company.dept / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    period_manifest = json.loads((company.period / MANIFEST).read_text(encoding="utf-8"))
    period_manifest["departments"]["cs-west"] = sha256_file(company.dept / MANIFEST)
    (company.period / MANIFEST).write_text(json.dumps(period_manifest), encoding="utf-8")
    assert kpi("verify", str(company.dept)).returncode == 0  # the department's hashes agree with each other now …
    caught = kpi("verify", str(company.dept), "--recompute")
    assert caught.returncode == 1  # … but the numbers do not agree with the inputs
    assert "result.json: CS04 score recorded 100.0, recomputed" in caught.stderr
    summaries = company.verify()  # and the period's summaries still show the score that was computed
    assert (
        summaries.returncode == 1
        and "summary.csv: cs-west CS04 score is 65.78, but cs-west/result.json gives 100.0" in summaries.stderr
    )


@pytest.mark.slow
def test_sign_off_shows_survives_verify_and_breaks_on_change(company: Company) -> None:
    assert kpi("sign", str(company.dept), "--role", "manager", "--name", "王经理", "--comment", "同意").returncode == 0
    assert kpi("sign", str(company.dept), "--role", "supervisor", "--name", "Li <b>Zhu</b>").returncode == 0
    page = (company.dept / "scorecard.html").read_text(encoding="utf-8")
    assert "王经理" in page and "Li &lt;b&gt;Zhu&lt;/b&gt;" in page
    assert "Department manager's signature" in page and "部门经理签字" not in page  # cs-west's language only
    sheet = openpyxl.load_workbook(company.dept / "scorecard.xlsx").active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any("王经理" in c for c in cells) and any("Li <b>Zhu</b>" in c for c in cells)
    ok = company.verify("--recompute")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count(": valid (") == 2
    with (company.data / "complaints.csv").open("a", encoding="utf-8") as handle:
        handle.write("WEST-K9999,cs-west,2026-11-11 10:00:00,,\n")
    broken = company.verify()
    assert broken.returncode == 1
    assert broken.stderr.count(": broken: ") == 2 and "complaints.csv: input changed" in broken.stderr
    refused = kpi("sign", str(company.dept), "--role", "manager", "--name", "王经理")
    assert refused.returncode == 1 and "refusing to sign" in refused.stderr


@pytest.mark.slow
def test_an_edited_sign_off_log_breaks_the_chain(company: Company) -> None:
    for role in ("manager", "supervisor"):
        assert kpi("sign", str(company.dept), "--role", role, "--name", role).returncode == 0
    log = company.dept / "signoffs.jsonl"
    log.write_text(
        log.read_text(encoding="utf-8").replace('"name": "manager"', '"name": "someone else"', 1), encoding="utf-8"
    )
    result = company.verify()
    assert result.returncode == 1 and "the sign-off log was edited before this line" in result.stderr


@pytest.mark.slow
def test_ed25519_signature(company: Company, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    def keypair(name: str) -> tuple[Path, Path]:
        key = Ed25519PrivateKey.generate()
        private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem"
        private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        return private, public

    mine, theirs = keypair("mine"), keypair("theirs")
    assert kpi("sign", str(company.dept), "--role", "manager", "--name", "M", "--key", str(mine[0])).returncode == 0
    good = kpi("verify", str(company.period), "--pubkey", str(mine[1]))
    assert good.returncode == 0 and "Ed25519 signature ok" in good.stdout
    bad = kpi("verify", str(company.period), "--pubkey", str(theirs[1]))
    assert bad.returncode == 1 and "does not match the public key" in bad.stderr


@pytest.mark.slow
def test_xlsx_exports_carry_the_numbers(company: Company) -> None:
    result = json.loads((company.dept / "result.json").read_text(encoding="utf-8"))
    sheet = openpyxl.load_workbook(company.dept / "scorecard.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("No.", "Indicator", "Target", "Weight") and rows[1][-1] == "Score"  # cs-west's language
    scores = {r[0]: r[13] for r in rows[2:14]}  # the title, one header row, 12 indicator rows
    assert scores == {i["id"]: i["score"] for i in result["indicators"]}
    assert ("Weighted total", result["total"]) == (rows[15][0], rows[15][2])  # merged label A:B, value C:E
    summary = openpyxl.load_workbook(company.period / "summary.xlsx").active
    line = [r for r in summary.iter_rows(values_only=True) if r[1] == "cs-west"][0]
    assert line[5] == result["total"] and line[6] == result["grade"]


@pytest.mark.slow
def test_rerun_of_signed_department_needs_force_keeps_history_and_diff_explains(company: Company) -> None:
    assert kpi("sign", str(company.dept), "--role", "manager", "--name", "M").returncode == 0
    before = (company.dept / "result.json").read_bytes()
    company.params.write_text(
        company.params.read_text(encoding="utf-8").replace(
            "CS04: {weight: 8, target: 95", "CS04: {weight: 8, target: 80"
        ),
        encoding="utf-8",
    )
    with (company.data / "complaints.csv").open("a", encoding="utf-8") as handle:
        handle.write("WEST-K9999,cs-west,2026-11-11 10:00:00,2026-11-12 10:00:00,是\n")
    refused = company.run()
    assert refused.returncode == 1 and "signed off; refusing to overwrite" in refused.stderr
    assert (company.dept / "result.json").read_bytes() == before
    forced = company.run("--force", "--reason", "CS04 target corrected")
    assert forced.returncode == 0, forced.stderr
    history = list((company.dept / "history").iterdir())
    assert (
        len(history) == 1
        and (history[0] / "signoffs.jsonl").exists()
        and (history[0] / "result.json").read_bytes() == before
    )
    # the log is carried over (its signatures now a superseded round of the new run, tests/test_signoff_order.py),
    # and the override is recorded after them, chained
    carried = (history[0] / "signoffs.jsonl").read_text(encoding="utf-8").splitlines()
    lines = (company.dept / "signoffs.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[: len(carried)] == carried and len(lines) == len(carried) + 1
    override = json.loads(lines[-1])
    assert override["kind"] == "override" and override["reason"] == "CS04 target corrected"  # recorded, not a signature
    assert company.verify("--recompute").returncode == 0
    explained = kpi("diff", str(history[0]), str(company.dept))
    assert explained.returncode == 0, explained.stderr
    text = explained.stdout
    assert "CS04: value 78.67 → 78.67, score 67.34 → 100.0" in text or "CS04: value" in text
    assert "because parameter indicators.CS04.target: 95 → 80" in text
    assert "because input complaints changed: 1 row(s) added" in text
    assert "added: row" in text and "WEST-K9999" in text


@pytest.mark.slow
def test_pdf_without_chromium_says_how_to_install(company: Company, tmp_path: Path) -> None:
    env_path = tmp_path / "bin"
    env_path.mkdir()
    (env_path / "python").symlink_to(sys.executable)
    result = kpi("pdf", str(company.period), env={"PATH": str(env_path)})
    assert result.returncode == 1
    assert "Chromium is not installed: run `make pdf-deps`" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make pdf-deps)")
def test_pdf_of_the_readers_reports(company: Company) -> None:
    result = kpi("pdf", str(company.dept))
    assert result.returncode == 0, result.stderr
    pdf = company.period / "pdf" / "cs-west" / "scorecard.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20000
    assert company.verify().returncode == 0  # PDFs go beside the department folders, not into them


@pytest.mark.slow
@pytest.mark.parametrize("page", ["scorecard.html", "scorecard.audit.html", "service.html", "service.audit.html"])
def test_an_edited_page_names_the_value_that_changed_and_verify_sums_up(company: Company, page: str) -> None:
    """The page is rendered again from its executed notebook (no code runs) and the changed total is named."""
    fresh = company.verify()
    assert fresh.returncode == 0 and re.search(r"^verify: 0 problems in \d+ outputs$", fresh.stdout, re.M), fresh.stdout
    result = json.loads((company.dept / "result.json").read_text(encoding="utf-8"))
    path = company.dept / page
    text = path.read_text(encoding="utf-8")
    if page.startswith("scorecard"):
        total = f"{result['total']:.2f}"
        assert f">{total}<" in text
        path.write_text(text.replace(f">{total}<", ">99.99<", 1), encoding="utf-8")
        named = f"{page}: total {total} → 99.99"
    else:
        item = next(i for i in result["indicators"] if i["group"] == "service" and f">{i['score']:.2f}<" in text)
        score = f"{item['score']:.2f}"
        path.write_text(text.replace(f">{score}<", ">1.00<", 1), encoding="utf-8")
        named = f"{page}: {item['id']} score {score} → 1.00"
    result = company.verify()
    assert result.returncode == 1
    assert f"{page}: " in result.stderr and "expected sha256" in result.stderr
    assert named in result.stderr, result.stderr
    assert result.stdout.splitlines()[-1] == "verify: 1 problem in 1 department", result.stdout
