"""Sign-off: the append-only log `signoffs.jsonl`, its records, their Ed25519 signatures.

`kpi sign` appends one JSON object a line with the fields `seq` (its line
number), `role` (a role of the department's template: the seed's manager, then
supervisor; see `signing.roles_of`), `name` (one line, at most 64
characters, no control characters), `time`, `comment`, `manifest_sha256` (the
department manifest it signs), `prev_sha256` (sha256 of the previous line's
UTF-8 text without its newline; null on line 1: a chain, so editing an earlier
line breaks every later one) and `views` (sha256 of the sign-off views it
rendered: `scorecard.html`, `scorecard.audit.html`, `scorecard.xlsx`).

With `--key`, the record also carries `public_key` (PEM) and `signature`: base64
of the Ed25519 signature of the record's canonical encoding, which is the record
without its `signature` field as JSON with sorted keys, no whitespace
(separators `,` and `:`), non-ASCII characters as themselves, encoded in UTF-8
(`canonical`). It covers every other field, `public_key` included, so editing
any field of any record breaks that record's signature.

Order: a role signs the current evidence (the manifest) only after every role
before it in the template's `signoff:` list, and once (`order_problem`). Rounds
(`signing.rounds_of`): a forced re-run carries the log into the new folder
(`audit.carry_signoffs`), so the records that signed the replaced run's manifest
form a superseded round; the next signatures start a new one. `time` carries
its offset, in the department's `timezone`.

`check_signatures` judges every line of a log: a line that is not a record
(not UTF-8, not JSON, not an object, missing fields, a bad name) is broken and
named by its line number; a record is broken when its seq, its chain, its
manifest (neither the folder's, nor one kept in `history/`: a superseded round,
which is valid and said so), its role (not one of the template's), the files
it covers or its signature do not hold. A record out of order (signed before
the roles ahead of it, or twice on one evidence: made before that rule) is a note. The
signature is checked against `--pubkey` when given (who signed), else against
the record's own key (that nothing was edited). Nothing here ever raises for
what a log holds.

One other kind of record shares the log and its chain: `{"kind": "override"}`,
appended by `kpi run --force --reason` as the first line of the new run's log
when it replaced a signed run (`append_override`). It says who forced it (`by`),
when (`time`, with its UTC offset), why (`reason`), the sha256 of the signed
manifest it replaced (`replaced_manifest_sha256`), the `history/` entry that run
now lives in (`history`) and the manifest of the run it made (`manifest_sha256`).
It is not a signature: a folder whose log holds only overrides is not signed
(`is_signed`), and `read_signoffs` leaves overrides out.
"""

from __future__ import annotations

import base64
import json
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import UnsupportedAlgorithm

from ..base.errors import AuditError, UsageError, shorten
from ..base.files import read_json, sha256_bytes, sha256_file, write_atomic
from ..base.layout import HISTORY, MANIFEST, SIGNOFFS
from ..base.messages import say
from ..base.text import near_match
from ..inputs.signing import Round, local_time, role_label, roles_of, rounds_of, zone_of
from ..inputs.sources import no_code
from ..inputs.template import SEED_ROLES, SignRole

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROLES = tuple(r.id for r in SEED_ROLES)  # the seed's roles; a department's are its template's (`roles_of`)
RECORD_FIELDS = ("seq", "role", "name", "time", "comment", "manifest_sha256", "prev_sha256", "views")
OVERRIDE = "override"
OVERRIDE_FIELDS = (
    "seq",
    "kind",
    "by",
    "time",
    "reason",
    "replaced_manifest_sha256",
    "history",
    "manifest_sha256",
    "prev_sha256",
)
MAX_REASON = 2000
MAX_NAME = 64


@dataclass
class LogLine:
    """One line of `signoffs.jsonl`: its number, the sha256 of its text, and the record or why it is not one."""

    number: int
    sha256: str
    record: dict[str, Any] | None
    problem: str = ""


def read_log(folder: Path) -> list[LogLine]:
    """Every line of the sign-off log, garbage included (named, never raised)."""
    path = folder / SIGNOFFS
    if not path.is_file():
        return []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [LogLine(1, "", None, f"cannot be read ({exc.strerror or exc})")]
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    lines = []
    for number, chunk in enumerate(raw.split(b"\n") if raw else [], start=1):
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            lines.append(LogLine(number, sha256_bytes(chunk), None, "not UTF-8 text"))
            continue
        sha = sha256_bytes(text.encode("utf-8"))
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, or a number of thousands of digits
            what = (
                exc.msg
                if isinstance(exc, json.JSONDecodeError)
                else "nested too deep"
                if isinstance(exc, RecursionError)
                else "a number too long to read"
            )
            lines.append(LogLine(number, sha, None, f"not JSON ({what})"))
            continue
        if not isinstance(record, dict):
            lines.append(
                LogLine(
                    number, sha, None, f"not a sign-off record (a JSON {type(record).__name__}, expected an object)"
                )
            )
            continue
        problems = record_problems(record)
        lines.append(LogLine(number, sha, record, "; ".join(problems)))
    return lines


def read_signoffs(folder: Path) -> list[dict[str, Any]]:
    """The well-formed sign-off records, in order (garbage lines and overrides left out: `read_log` names them)."""
    return [
        line.record
        for line in read_log(folder)
        if line.record is not None and not line.problem and not is_override(line.record)
    ]


def is_override(record: Mapping[str, Any] | None) -> bool:
    """True for an override record (`kpi run --force --reason`), which shares the log but signs nothing."""
    return record is not None and record.get("kind") == OVERRIDE


def name_problem(name: Any) -> str:
    """Why `name` is not a signer's name (empty, several lines, control characters, over 64 characters), or ""."""
    if not isinstance(name, str) or not name.strip():
        return "is empty; expected who signs"
    if len(name) > MAX_NAME:
        return f"has {len(name)} characters; expected at most {MAX_NAME}"
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        return f"holds the control character U+{ord(bad):04X}; expected one line of plain text"
    if name != name.strip():
        return "starts or ends with a space"
    return ""


def record_problems(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with the shape of a sign-off record (missing fields, wrong types, unknown role, bad name)."""
    if "kind" in record:
        return override_problems(record)
    problems = []
    missing = [f for f in RECORD_FIELDS if f not in record]
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    if "seq" in record and (not isinstance(record["seq"], int) or isinstance(record["seq"], bool)):
        problems.append("seq is not a number")
    if "role" in record and (not isinstance(record["role"], str) or not record["role"].strip()):
        problems.append(f"role {shorten(record['role'])!r} is not a role id")
    if "name" in record and name_problem(record["name"]):
        problems.append(f"name {name_problem(record['name'])}")
    for key in ("time", "comment", "manifest_sha256"):
        if key in record and not isinstance(record[key], str):
            problems.append(f"{key} is not text")
    if "prev_sha256" in record and record["prev_sha256"] is not None and not isinstance(record["prev_sha256"], str):
        problems.append("prev_sha256 is not text")
    views = record.get("views")
    if "views" in record and (
        not isinstance(views, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in views.items())
    ):
        problems.append("views is not a mapping of file names to sha256")
    for key in ("signature", "public_key"):
        if key in record and not isinstance(record[key], str):
            problems.append(f"{key} is not text")
    return problems


def override_problems(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with the shape of an override record (see the module docstring)."""
    if record.get("kind") != OVERRIDE:
        return [f"kind {shorten(record.get('kind'))!r}; expected {OVERRIDE} (or no kind: a signature)"]
    problems = []
    missing = [f for f in OVERRIDE_FIELDS if f not in record]
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    extra = sorted(set(record) - set(OVERRIDE_FIELDS))
    if extra:
        problems.append(f"unexpected field(s) {', '.join(shorten(k) for k in extra)}")
    if "seq" in record and (not isinstance(record["seq"], int) or isinstance(record["seq"], bool)):
        problems.append("seq is not a number")
    if "by" in record and name_problem(record["by"]):
        problems.append(f"by {name_problem(record['by'])}")
    for key in ("time", "reason", "replaced_manifest_sha256", "history", "manifest_sha256"):
        if key in record and not (isinstance(record[key], str) and record[key].strip()):
            problems.append(f"{key} is not text")
    if "prev_sha256" in record and record["prev_sha256"] is not None and not isinstance(record["prev_sha256"], str):
        problems.append("prev_sha256 is not text")
    return problems


def reason_problem(reason: str) -> str:
    """Why `reason` cannot be the recorded reason of an override (empty, control characters, too long), or ""."""
    if not reason.strip():
        return "is empty; say why the signed run is replaced"
    if len(reason) > MAX_REASON:
        return f"has {len(reason)} characters; expected at most {MAX_REASON}"
    bad = next((c for c in reason if unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\t"), None)
    if bad is not None:
        return f"holds the control character U+{ord(bad):04X}; expected plain text"
    return ""


def append_override(
    folder: Path, *, by: str, time: str, reason: str, replaced_manifest_sha256: str, history: str
) -> dict[str, Any]:
    """Append an override record to `folder`'s sign-off log, bound to its manifest (written first); the record."""
    log = read_log(folder)
    record: dict[str, Any] = {
        "seq": len(log) + 1,
        "kind": OVERRIDE,
        "by": by,
        "time": time,
        "reason": reason,
        "replaced_manifest_sha256": replaced_manifest_sha256,
        "history": history,
        "manifest_sha256": sha256_file(folder / MANIFEST),
        "prev_sha256": log[-1].sha256 if log else None,
    }
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with (folder / SIGNOFFS).open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return record


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes an Ed25519 sign-off signature covers: the record without `signature`, as canonical JSON (see the module docstring)."""
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


class Verdicts(Protocol):
    """Where `check_signatures` puts its verdicts (`audit.Report`): the folder's differences so far, notes, and a verdict per line."""

    differences: list[str]
    notes: list[str]

    def verdict(self, line: str, *, broken: bool) -> None: ...


class Checks(Protocol):
    """What `sign` needs checked before it signs (`audit.verify_department`'s report)."""

    differences: list[str]
    broken: list[str]


def check_signatures(
    folder: Path, manifest_path: Path, log: list[LogLine], report: Verdicts, pubkey: Path | None
) -> None:
    """A verdict per line of the sign-off log: valid (and how far it was checked) or broken (and why).

    Call it after the folder's other checks: a record is broken when `report` already holds differences.
    """
    if not log:
        return
    try:
        current: str | None = sha256_bytes(manifest_path.read_bytes())
    except OSError:
        current = None
    clean = not report.differences
    trusted = _public_key(pubkey) if pubkey is not None else None
    kept = history_manifests(folder)
    # A record signed the folder's manifest (the current round), or a run kept in history/ (a superseded round).
    roles = roles_of(folder)
    ids = [r.id for r in roles]
    seen: dict[str, set[str]] = {}
    for position, line in enumerate(log):
        record = line.record
        if record is None:
            report.verdict(f"{folder / SIGNOFFS}: line {line.number}: broken: {line.problem}", broken=True)
            continue
        who = f"{folder}: signature {line.number} ({shorten(record.get('role'), 20)} {shorten(record.get('name'), 64)}, {shorten(record.get('time'), 40)})"
        if is_override(record):
            who = f"{folder}: override {line.number} (by {shorten(record.get('by'), 64)}, {shorten(record.get('time'), 40)}, replaced {shorten(record.get('history'), 60)}: {shorten(record.get('reason'), 80)})"
        reasons = [f"line {line.number} of {SIGNOFFS}: {line.problem}"] if line.problem else []
        if record.get("seq") != line.number:
            reasons.append(
                f"it says seq {shorten(record.get('seq'), 20)} but is line {line.number} (a line was removed, added or moved)"
            )
        signed = record.get("manifest_sha256")
        superseded = ""
        if signed != current:
            if isinstance(signed, str) and signed in kept:
                superseded = f"superseded: it signed an earlier run, kept in {HISTORY}/{kept[signed]}"
            else:
                reasons.append("the manifest it signed has changed")
        role = record.get("role")
        if isinstance(role, str) and role not in ids:
            reasons.append(f"role {shorten(role)!r} is not one of the template's ({', '.join(ids)})")
        elif isinstance(role, str) and isinstance(signed, str):
            before = seen.setdefault(signed, set())
            skipped = [r for r in ids[: ids.index(role)] if r not in before]
            if role in before or skipped:
                what = "a second time on the same evidence" if role in before else f"before {', '.join(skipped)}"
                if _zoned(record.get("time")):  # written by a kpi sign that enforces the order: forged
                    reasons.append(f"{role} signed {what}, which kpi sign refuses")
                else:
                    report.notes.append(
                        f"{folder / SIGNOFFS}: line {line.number}: {role} signed {what}"
                        " (kpi sign refuses this now; the record predates that rule)"
                    )
            before.add(role)
        if record.get("prev_sha256") != (log[position - 1].sha256 if position else None):
            reasons.append("the sign-off log was edited before this line")
        if is_override(record):
            reasons.extend(_carried_problems(folder, log[:position], record))
        if not clean:
            reasons.append("files it covers changed (see above)")
        note = ""
        if is_override(record):
            note = "recorded by kpi run --force; not a signature"
        elif record.get("signature"):
            if trusted is not None:
                if _signature_ok(record, trusted):
                    note = "Ed25519 signature ok"
                else:
                    reasons.append(
                        "the Ed25519 signature does not match the public key (the record was edited after signing, or another key signed it)"
                    )
            elif not isinstance(record.get("public_key"), str):
                reasons.append("it has an Ed25519 signature but no public_key to check it with")
            elif _signature_ok(record, record["public_key"].encode("ascii", "replace")):
                note = "Ed25519 signature ok against the key in the record; pass --pubkey to check whose key that is"
            else:
                reasons.append("the Ed25519 signature does not match the record (it was edited after signing)")
        else:
            note = "no cryptographic signature"
            if trusted is not None:
                reasons.append("no Ed25519 signature to check against --pubkey")
        head = (
            f"; the log's head is {line.sha256} (compare it with the one kpi sign printed: a removed last record shows only there)"
            if position == len(log) - 1
            else ""
        )
        note = f"{superseded}; {note}" if superseded else note
        report.verdict(
            f"{who}: broken: {'; '.join(reasons)}" if reasons else f"{who}: valid ({note}){head}", broken=bool(reasons)
        )


def _zoned(time: Any) -> bool:
    """True for a record time with its UTC offset: written by a `kpi sign` that enforces the signing order."""
    return isinstance(time, str) and re.search(r"(?:[+-]\d\d:\d\d|Z)$", time) is not None


def _carried_problems(folder: Path, before: list[LogLine], record: Mapping[str, Any]) -> list[str]:
    """Why the lines before an override record are not the whole log of the run it replaced ([] when they are).

    A forced re-run copies the replaced run's log (kept in `history/`) and appends the
    override: a carried signature removed, changed or added shows here.
    """
    name = str(record.get("history") or "").rsplit("/", 1)[-1]
    entry = department_history(folder) / name
    if not name or not entry.is_dir():
        return [f"the run it replaced ({shorten(record.get('history'), 60)}) is not in {HISTORY}/"]
    kept = [line.sha256 for line in read_log(entry)]
    if [line.sha256 for line in before] != kept:
        return [
            f"the lines before it are not the sign-off log of the run it replaced ({HISTORY}/{name}, "
            f"{len(kept)} line(s)): a carried signature was removed, changed or added"
        ]
    return []


def _public_key(path: Path) -> bytes:
    """The PEM bytes of an Ed25519 public key given with --pubkey; `UsageError` when it is not one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        pem = path.read_bytes()
        key = load_pem_public_key(pem)
    except OSError as exc:
        raise UsageError(f"--pubkey {path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(
            f"--pubkey {path}: not a PEM public key ({exc}); expected the output of openssl pkey -in key.pem -pubout"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"--pubkey {path}: not an Ed25519 public key (openssl genpkey -algorithm ed25519)")
    return pem


def _signature_ok(record: Mapping[str, Any], public_pem: bytes) -> bool:
    """True when the record's Ed25519 signature covers its canonical encoding under this PEM public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_pem)
        if not isinstance(key, Ed25519PublicKey):
            return False
        key.verify(base64.b64decode(record["signature"], validate=True), canonical(record))
    except (InvalidSignature, ValueError, TypeError, KeyError, UnsupportedAlgorithm):
        return False
    return True


def sign(
    folder: Path,
    *,
    role: str,
    name: str,
    comment: str = "",
    key: Path | None = None,
    zone: str = "",
    lang: str = "en",
    verify: Callable[[Path], Checks],
    render: Callable[[Path, list[Mapping[str, Any]]], dict[str, bytes]],
) -> dict[str, Any]:
    """Append a sign-off record bound to the manifest, and re-render the sign-off views.

    `verify` checks the folder first (no code runs); `render` makes the sign-off
    views with the new record (`audit.verify_department`, `audit.render_views`:
    `audit.sign` passes them).

    The roles are the department's template's (`roles_of`), signing in order: a role
    signs the current evidence (the manifest) only after every role before it, and
    once. The time is recorded with its offset, in the department's `zone`; a refusal
    is said in the department's `lang` (who signs reads it).

    A bad role, name (surrounding spaces are dropped) or comment, or a role out of
    turn, is a `UsageError`; a folder whose outputs no longer match their manifest,
    or whose sign-off log has a broken line, is refused with an `AuditError` naming
    every problem.
    """
    roles = roles_of(folder)
    check_role(roles, role)
    name = name.strip()
    why = name_problem(name)
    if why:
        raise UsageError(f"--name {shorten(name)!r} {why}")
    bad = next((c for c in comment if unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\t"), None)
    if bad is not None:
        raise UsageError(f"--comment holds the control character U+{ord(bad):04X}; expected plain text")
    if not (folder / MANIFEST).is_file():
        raise UsageError(f"{folder}: no manifest.json; expected a department folder written by kpi run")
    manifest = read_json(folder / MANIFEST)
    if manifest.get("status") != "ok":
        raise AuditError(f"{folder}: the department failed in this run; there is nothing to sign")
    private = _private_key(key) if key is not None else None
    with no_code("kpi sign"):
        found = verify(folder)
    if found.differences or found.broken:
        raise AuditError(
            "\n".join(
                [
                    f"{folder}: refusing to sign: its outputs no longer match their manifest, or its sign-off log is damaged",
                    *found.differences,
                    *found.broken,
                ]
            )
        )
    manifest_sha = sha256_file(folder / MANIFEST)
    log = read_log(folder)
    rounds = rounds_of(read_signoffs(folder), manifest_sha)
    out_of_turn = order_problem(roles, rounds[-1] if rounds and rounds[-1].current else None, role, zone, lang)
    if out_of_turn:
        raise AuditError(f"{folder}: {say('signoff.refused', lang, role=role, why=out_of_turn)}")
    place = zone_of(zone)
    record: dict[str, Any] = {
        "seq": len(log) + 1,
        "role": role,
        "name": name,
        "time": (datetime.now(place) if place is not None else datetime.now().astimezone()).isoformat(
            timespec="seconds"
        ),
        "comment": comment,
        "manifest_sha256": manifest_sha,
        "prev_sha256": log[-1].sha256 if log else None,
    }
    views = render(
        folder, [*(line.record for line in log if line.record is not None and not is_override(line.record)), record]
    )
    record["views"] = {rel: sha256_bytes(data) for rel, data in views.items()}
    if private is not None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        record["public_key"] = (
            private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        )
        record["signature"] = base64.b64encode(private.sign(canonical(record))).decode("ascii")
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with (folder / SIGNOFFS).open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    for rel, data in views.items():
        write_atomic(folder / rel, data)
    return record


def _private_key(key: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key of a PEM file given with --key; `UsageError` when it is not one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private = load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError, OSError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{key}: not a readable PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UsageError(f"{key}: expected an Ed25519 private key (openssl genpkey -algorithm ed25519)")
    return private


def is_signed(folder: Path) -> bool:
    """True when the folder's sign-off log holds anything but override records (a damaged log counts: it is not overwritten)."""
    path = folder / SIGNOFFS
    try:
        if not (path.is_file() and path.read_bytes().strip()):
            return False
    except OSError:
        return True
    return any(line.problem or not is_override(line.record) for line in read_log(folder))


# -- roles, rounds and times ------------------------------------------------------------------
def department_history(folder: Path) -> Path:
    """The `history/` a department folder's runs are kept in: its own, or, for a history entry, the one it sits in.

    A forced re-run moves the replaced run and every entry it had into one `history/`: an
    entry's earlier runs are its siblings, never inside it.
    """
    return folder.parent if folder.parent.name == HISTORY else folder / HISTORY


def history_manifests(folder: Path) -> dict[str, str]:
    """sha256 of each manifest kept in the department's `history/` → the entry's name (the runs a forced re-run replaced).

    For a history entry, its siblings (`department_history`), itself left out.
    """
    found: dict[str, str] = {}
    history = department_history(folder)
    if not history.is_dir() or history.is_symlink():
        return found
    for entry in sorted(history.iterdir()):
        path = entry / MANIFEST
        if entry != folder and entry.is_dir() and not entry.is_symlink() and path.is_file():
            try:
                found[sha256_file(path)] = entry.name
            except OSError:
                continue
    return found


def order_problem(roles: tuple[SignRole, ...], round_: Round | None, role: str, zone: str, lang: str = "en") -> str:
    """Why `role` may not sign the current evidence now (who must sign first, or when it already signed), or "".

    In the department's `lang` (its reader signs; the role ids stay as typed on the command line).
    """
    done = round_.records if round_ is not None else []
    already = round_.signed(role) if round_ is not None else None
    label = f"{role_label(roles, role, lang)} ({role})"
    if already is not None:
        when, _ = local_time(already.get("time"), zone, lang)
        return say("signoff.refused.twice", lang, role=label, name=str(already.get("name")), when=when)
    position = next(i for i, r in enumerate(roles) if r.id == role)
    missing = [r for r in roles[:position] if not any(d.get("role") == r.id for d in done)]
    if missing:
        first = missing[0]
        order = " → ".join(r.id for r in roles)
        return say("signoff.refused.order", lang, first=f"{first.label(lang)} ({first.id})", role=label, order=order)
    return ""


def check_role(roles: tuple[SignRole, ...], role: str) -> None:
    """`UsageError` naming the template's roles (and the nearest) when `role` is not one of them."""
    ids = [r.id for r in roles]
    if role in ids:
        return
    near = near_match(role, ids, typos=True)
    hint = f"did you mean {near}? " if near else ""
    listed = ", ".join(f"{r.id} ({r.label('zh')})" for r in roles)
    raise UsageError(
        f"--role {shorten(role)!r}: {hint}expected one of the template's roles, in signing order: {listed}"
    )
