"""The audit trail (SPEC §8): manifests, verification, sign-off bound to the evidence, run diffs.

Per department and period, `outputs/<period>/<dept>/` holds:

- `inputs/`: exact copies of every input the run used (the tables its indicators
  need, the params file as `params.yaml`, the template as `template.yaml`), taken
  before the notebooks start. `kpi verify --recompute` and `kpi diff` read these,
  so a run stays reproducible after the company's data files move on.
- `manifest.json`, written last: sha256 of every input (original path and copy),
  of the params file and the template; the effective parameters after period
  overrides; package versions, Python, the toolkit's version and git commit; the
  time; sha256 of every output file (`outputs`) and of the sign-off views
  (`views`: `scorecard.html`, `scorecard.audit.html`, `scorecard.xlsx`, which
  `kpi sign` re-renders to show the signatures).
- `signoffs.jsonl`: append-only sign-off records, each carrying the sha256 of the
  manifest it signs, the hashes of the views it rendered, and the sha256 of the
  previous line (a chain: editing an earlier line breaks every later one);
  optionally an Ed25519 signature of the manifest hash.

`outputs/<period>/manifest.json` covers the period's `index.html`, `summary.csv`,
`summary.xlsx` and the sha256 of each department's manifest.

`verify_period` re-hashes everything against the manifests and names every
difference (changed, deleted, added); with `recompute` it recomputes every score
from `inputs/` and compares with `result.json` and the results recorded in the
executed notebooks. A signature is valid when the manifest it signed is the
current one and everything that manifest covers still matches.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import clock
from .errors import KpiError, UsageError

MANIFEST = "manifest.json"
SIGNOFFS = "signoffs.jsonl"
INPUTS = "inputs"
HISTORY = "history"
VIEWS = ("scorecard.html", "scorecard.audit.html", "scorecard.xlsx")
ROLES = ("manager", "supervisor")
PACKAGES = ("kpi-appraisal", "pandas", "holidays", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel", "pydantic", "matplotlib", "openpyxl", "pyarrow")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit(path: Path | None = None) -> str:
    """The toolkit's git commit, or "not a git checkout"."""
    import subprocess

    where = path or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return out.stdout.strip() if out.returncode == 0 else "not a git checkout"


# -- writing --------------------------------------------------------------------------------
def snapshot_inputs(department: Any, period: Any, folder: Path) -> dict[str, Any]:
    """Copy every input the department's period needs into `folder/inputs/`; return the manifest's input section."""
    from .appraisal import tables_needed
    from .tables import DataFolder

    target = folder / INPUTS
    target.mkdir(parents=True, exist_ok=True)

    def copy(source: Path, name: str) -> dict[str, Any]:
        data = source.read_bytes()
        (target / name).write_bytes(data)
        return {"path": str(source.resolve()), "sha256": sha256_bytes(data), "copy": f"{INPUTS}/{name}"}

    section: dict[str, Any] = {"params": copy(department.path, "params.yaml"), "template": {"id": department.template.id, **copy(Path(department.template.path), "template.yaml")}}
    tables = []
    try:
        params = department.for_period(period)
        names = tables_needed(params, department.template.indicators)
    except KpiError:
        names = []
    data = DataFolder.of(department)
    for name in names:
        for path in data.files(name):
            tables.append({"table": name, **copy(path, path.name)})
    section["tables"] = tables
    return section


def output_hashes(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(outputs, views): sha256 of every file the manifest covers, by path relative to `folder`."""
    outputs, views = {}, {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel in (MANIFEST, SIGNOFFS) or rel.split("/")[0] in (INPUTS, HISTORY) or any(p.startswith(".") for p in rel.split("/")):
            continue
        (views if rel in VIEWS else outputs)[rel] = sha256_file(path)
    return outputs, views


def build_manifest(folder: Path, *, department: str, period: str, status: str, inputs: Mapping[str, Any], effective: Any, commit: str) -> dict[str, Any]:
    outputs, views = output_hashes(folder)
    return {
        "schema": 1,
        "department": department,
        "period": period,
        "status": status,
        "created": clock.stamp(),
        "toolkit": {"version": versions()["kpi-appraisal"], "git_commit": commit},
        "python": platform.python_version(),
        "packages": versions(),
        "inputs": dict(inputs),
        "effective_params": effective,
        "outputs": outputs,
        "views": views,
    }


def write_period_manifest(period_dir: Path, period: str) -> Path:
    from .reports import write_atomic

    files = {name: sha256_file(period_dir / name) for name in ("index.html", "summary.csv", "summary.xlsx") if (period_dir / name).is_file()}
    departments = {p.name: sha256_file(p / MANIFEST) for p in sorted(period_dir.iterdir()) if p.is_dir() and (p / MANIFEST).is_file()}
    manifest = {"schema": 1, "period": period, "created": clock.stamp(), "files": files, "departments": departments}
    write_atomic(period_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return period_dir / MANIFEST


# -- reading --------------------------------------------------------------------------------
def read_json(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise KpiError(f"{path}: not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KpiError(f"{path}: not valid JSON ({exc})") from None


def read_signoffs(folder: Path) -> list[dict[str, Any]]:
    path = folder / SIGNOFFS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _lines_sha(folder: Path) -> list[str]:
    path = folder / SIGNOFFS
    if not path.is_file():
        return []
    return [sha256_bytes(line.encode("utf-8")) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- verification ---------------------------------------------------------------------------
@dataclass
class Report:
    """What `kpi verify` found: differences (each fails the check) and signature verdicts."""

    differences: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences and not any(" broken" in s for s in self.signatures)


def _compare(path: Path, expected: str | None, label: str, out: list[str]) -> bool:
    if not path.is_file():
        out.append(f"{path}: {label} deleted (expected sha256 {expected})")
        return False
    found = sha256_file(path)
    if found != expected:
        out.append(f"{path}: {label} changed: expected sha256 {expected}, found {found}")
        return False
    return True


def verify_department(folder: Path, *, recompute: bool = False, pubkey: Path | None = None) -> Report:
    report = Report()
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        report.differences.append(f"{manifest_path}: manifest deleted or never written")
        return report
    manifest = read_json(manifest_path)
    diffs = report.differences
    inputs = manifest.get("inputs", {})
    for entry in [inputs.get("params"), inputs.get("template"), *inputs.get("tables", [])]:
        if not entry:
            continue
        _compare(Path(entry["path"]), entry["sha256"], "input", diffs)
        _compare(folder / entry["copy"], entry["sha256"], "recorded input copy", diffs)
    outputs, views = output_hashes(folder)
    for rel, sha in manifest.get("outputs", {}).items():
        _compare(folder / rel, sha, "output", diffs)
        report.checked += 1
    for rel in sorted(set(outputs) - set(manifest.get("outputs", {}))):
        diffs.append(f"{folder / rel}: output added (not in the manifest)")
    signoffs = read_signoffs(folder)
    expected_views = signoffs[-1].get("views", {}) if signoffs else manifest.get("views", {})
    for rel, sha in expected_views.items():
        _compare(folder / rel, sha, "sign-off view" if signoffs else "output", diffs)
        report.checked += 1
    for rel in sorted(set(views) - set(expected_views)):
        diffs.append(f"{folder / rel}: output added (not in the manifest)")
    if recompute and manifest.get("status") == "ok":
        diffs.extend(recompute_department(folder, manifest))
    _check_signatures(folder, manifest_path, signoffs, report, pubkey)
    return report


def _check_signatures(folder: Path, manifest_path: Path, signoffs: list[dict[str, Any]], report: Report, pubkey: Path | None) -> None:
    if not signoffs:
        return
    current = sha256_file(manifest_path)
    chain = _lines_sha(folder)
    clean = not report.differences
    for i, record in enumerate(signoffs):
        who = f"{folder}: signature {i + 1} ({record.get('role')} {record.get('name')}, {record.get('time')})"
        reasons = []
        if record.get("manifest_sha256") != current:
            reasons.append("the manifest it signed has changed")
        if record.get("prev_sha256") != (chain[i - 1] if i else None):
            reasons.append("the sign-off log was edited before this line")
        if not clean:
            reasons.append("files it covers changed (see above)")
        if record.get("signature"):
            if pubkey is None:
                note = "Ed25519 signature not checked (pass --pubkey)"
            elif _signature_ok(record, pubkey):
                note = "Ed25519 signature ok"
            else:
                note = ""
                reasons.append("the Ed25519 signature does not match the public key")
        else:
            note = "no cryptographic signature"
            if pubkey is not None:
                reasons.append("no Ed25519 signature to check against --pubkey")
        report.signatures.append(f"{who}: broken: {'; '.join(reasons)}" if reasons else f"{who}: valid ({note})")


def _signature_ok(record: Mapping[str, Any], pubkey: Path) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pubkey.read_bytes())
        key.verify(base64.b64decode(record["signature"]), record["manifest_sha256"].encode("ascii"))  # type: ignore[union-attr,call-arg]
    except (InvalidSignature, ValueError, TypeError, OSError):
        return False
    return True


def recompute_department(folder: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Recompute every score from `inputs/`; compare with result.json and the notebooks' recorded results."""
    from .appraisal import appraise
    from .notebook import read_record
    from .period import Period
    from .runner import SCORECARD

    differences = []
    try:
        department = recorded_department(folder)
        expected = appraise(department, Period.parse(manifest["period"])).to_json()
    except KpiError as exc:
        return [f"{folder}: cannot recompute: {line}" for line in exc.lines()]
    sources: dict[str, Any] = {}
    try:
        sources["result.json"] = read_json(folder / "result.json")
        sources[f"{SCORECARD}.ipynb"] = read_record(folder / f"{SCORECARD}.ipynb", kind="scorecard")["result"]
        for group in department.template.groups:
            items = [{k: v for k, v in i.items() if k != "explain"} for i in read_record(folder / f"{group}.ipynb", kind="group")["indicators"]]
            sources[f"{group}.ipynb"] = {"indicators": items}
    except KpiError as exc:
        differences.extend(exc.lines())
    by_id = {i["id"]: i for i in expected["indicators"]}
    for name, recorded in sources.items():
        where = folder / name
        for key in ("total", "grade"):
            if key in recorded and recorded[key] != expected[key]:
                differences.append(f"{where}: {key} recorded {recorded[key]}, recomputed {expected[key]}")
        for item in recorded.get("indicators", []):
            fresh = by_id.get(item.get("id"))
            if fresh is None:
                differences.append(f"{where}: indicator {item.get('id')} is not in the recomputed result")
                continue
            for key, value in item.items():
                if fresh.get(key) != value:
                    differences.append(f"{where}: {item['id']} {key} recorded {value}, recomputed {fresh.get(key)}")
    return differences


def recorded_department(folder: Path) -> Any:
    """The department as a run recorded it: its params, template and tables from `inputs/`."""
    from .params import load_params

    inputs = folder.resolve() / INPUTS
    return load_params(inputs / "params.yaml", template=inputs / "template.yaml", data=inputs)


def verify_period(period_dir: Path, *, recompute: bool = False, pubkey: Path | None = None) -> Report:
    """Verify a period folder: its own manifest, then every department's."""
    if not period_dir.is_dir():
        raise UsageError(f"{period_dir}: not a folder; expected outputs/<period> (or one department folder inside it)")
    if (period_dir / MANIFEST).is_file() and "department" in read_json(period_dir / MANIFEST):
        return verify_department(period_dir, recompute=recompute, pubkey=pubkey)
    report = Report()
    manifest_path = period_dir / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"{period_dir}: no manifest.json; expected a folder written by kpi run")
    manifest = read_json(manifest_path)
    for name, sha in manifest.get("files", {}).items():
        _compare(period_dir / name, sha, "output", report.differences)
    listed = manifest.get("departments", {})
    present = {p.name for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()}
    for name in sorted(set(present) - set(listed)):
        report.differences.append(f"{period_dir / name}: department added (not in the period manifest)")
    for name, sha in listed.items():
        folder = period_dir / name
        if not (folder / MANIFEST).is_file():
            report.differences.append(f"{folder / MANIFEST}: department manifest deleted (expected sha256 {sha})")
            continue
        _compare(folder / MANIFEST, sha, "department manifest", report.differences)
        found = verify_department(folder, recompute=recompute, pubkey=pubkey)
        report.differences.extend(found.differences)
        report.signatures.extend(found.signatures)
        report.checked += found.checked
    return report


# -- sign-off -------------------------------------------------------------------------------
def sign(folder: Path, *, role: str, name: str, comment: str = "", key: Path | None = None) -> dict[str, Any]:
    """Append a sign-off record bound to the manifest, and re-render the sign-off views; refuse if anything changed."""
    if role not in ROLES:
        raise UsageError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    if not (folder / MANIFEST).is_file():
        raise UsageError(f"{folder}: no manifest.json; expected a department folder written by kpi run")
    manifest = read_json(folder / MANIFEST)
    if manifest.get("status") != "ok":
        raise KpiError(f"{folder}: the department failed in this run; there is nothing to sign")
    found = verify_department(folder)
    if found.differences:
        raise KpiError("\n".join([f"{folder}: refusing to sign: its outputs no longer match their manifest", *found.differences]))
    manifest_sha = sha256_file(folder / MANIFEST)
    previous = _lines_sha(folder)
    record: dict[str, Any] = {
        "seq": len(previous) + 1,
        "role": role,
        "name": name,
        "time": datetime.now().isoformat(timespec="seconds"),
        "comment": comment,
        "manifest_sha256": manifest_sha,
        "prev_sha256": previous[-1] if previous else None,
    }
    if key is not None:
        record.update(_ed25519(key, manifest_sha))
    views = render_views(folder, [*read_signoffs(folder), record])
    record["views"] = {rel: sha256_bytes(data) for rel, data in views.items()}
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with (folder / SIGNOFFS).open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
    from .reports import write_atomic

    for rel, data in views.items():
        write_atomic(folder / rel, data)
    return record


def _ed25519(key: Path, manifest_sha: str) -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    try:
        private = load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise UsageError(f"{key}: not a readable PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UsageError(f"{key}: expected an Ed25519 private key (openssl genpkey -algorithm ed25519)")
    public = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return {"signature": base64.b64encode(private.sign(manifest_sha.encode("ascii"))).decode("ascii"), "public_key": public}


def render_views(folder: Path, signoffs: list[Mapping[str, Any]]) -> dict[str, bytes]:
    """The scorecard's HTML reports and xlsx with the sign-off block filled in (nothing written)."""
    import nbformat

    from .notebook import signoff_html
    from .reports import PLACEHOLDER, font_css, notebook_node_html

    notebook = nbformat.read(str(folder / "scorecard.ipynb"), as_version=4)
    block = signoff_html(signoffs)
    for cell in notebook.cells:
        if "signoff" in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": block, "text/plain": "sign-off"})]
    meta = _department_meta(folder)
    title = f"{meta.get('name') or folder.name} · {folder.parent.name}"
    pages = {
        "scorecard.html": notebook_node_html(notebook, reader=True, title=f"{title} · scorecard"),
        "scorecard.audit.html": notebook_node_html(notebook, reader=False, title=f"{title} · scorecard (audit)"),
    }
    css = font_css(pages.values())
    views = {rel: page.replace(PLACEHOLDER, css, 1).encode("utf-8") for rel, page in pages.items()}
    views["scorecard.xlsx"] = scorecard_xlsx_bytes(folder, signoffs)
    return views


def _department_meta(folder: Path) -> dict[str, Any]:
    path = folder / "department.json"
    return read_json(path) if path.is_file() else {}


def scorecard_xlsx_bytes(folder: Path, signoffs: Iterable[Mapping[str, Any]] = ()) -> bytes:
    """The department's scorecard.xlsx from its result.json and the group notebooks' recorded explanations."""
    from .exports import scorecard_xlsx
    from .notebook import read_record
    from .template import load_template

    meta = _department_meta(folder)
    result = read_json(folder / "result.json")
    template = load_template(str(folder / INPUTS / "template.yaml"))
    explain = {}
    for group in template.groups:
        for item in read_record(folder / f"{group}.ipynb", kind="group")["indicators"]:
            explain[item["id"]] = item.get("explain", {})
    title = f"{template.name('zh')} · {meta.get('name') or result['department']} ({result['department']}) · {result['period']}"
    return scorecard_xlsx(template, meta.get("lang", "zh"), title, result, explain, meta.get("labels", {}), list(signoffs))


# -- history --------------------------------------------------------------------------------
def is_signed(folder: Path) -> bool:
    return bool(read_signoffs(folder))


def keep_history(old: Path, new: Path) -> Path:
    """Move a previous run (and its own history) into `new/history/`, keeping it whole."""
    history = new / HISTORY
    history.mkdir(parents=True, exist_ok=True)
    if (old / HISTORY).is_dir():
        for entry in sorted((old / HISTORY).iterdir()):
            shutil.move(str(entry), str(history / entry.name))
        (old / HISTORY).rmdir()
    stamp = read_json(old / MANIFEST).get("created", "") if (old / MANIFEST).is_file() else ""
    name = (stamp or datetime.now().isoformat(timespec="seconds")).replace(":", "")
    target = history / name
    shutil.move(str(old), str(target))
    return target
