"""Write the golden notebooks again: `python tests/golden/make_golden.py` (then review the diff, and commit).

The golden set is what an auditor reads for one tiny department: the group notebook
(`notebooks/group.ipynb`, group `calls`) and the scorecard notebook, executed with
papermill on the fixed data set beside this file (`data/`, `params/golden.yaml`,
`template.yaml`: the call centre's two indicators in one group). `pytest --nbval`
(part of `make test`) executes every cell of each golden notebook again and compares
each output with the stored one, after `sanitize.cfg` has replaced what depends on
the machine (paths, sha256 hashes, times, versions). So any change in what a
reader or an auditor sees in these notebooks fails a test until the golden set is
written again and the difference reviewed.

Charts (PNG) are not compared (nbval compares images only with nbdime), nor is the
recorded JSON object (it names absolute data paths): its numbers are in the
compared HTML and text outputs.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import papermill
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from kpi_lib.inputs.template import load_template  # noqa: E402
from kpi_lib.reports.executed import settle  # noqa: E402

SURVEYS = [
    ("G-S01", "golden", "customer_satisfaction", "客户1", "2026-10-08", 5),
    ("G-S02", "golden", "customer_satisfaction", "客户2", "2026-10-20", 4),
    ("G-S03", "golden", "customer_satisfaction", "客户3", "2026-11-03", 3),
    ("G-S04", "golden", "customer_satisfaction", "客户4", "2026-11-17", 5),
    ("G-S05", "golden", "customer_satisfaction", "客户5", "2026-12-01", 2),
    ("G-S06", "golden", "customer_satisfaction", "客户6", "2026-12-09", 4),
    ("G-S07", "golden", "customer_satisfaction", "客户7", "2026-09-30", 1),  # outside 2026-Q4
]
MESSAGES = [
    ("G-M01", "golden", "C01", "2026-10-02 09:00:00", "2026-10-02 10:00:00"),
    ("G-M02", "golden", "C02", "2026-10-15 09:00:00", "2026-10-16 12:00:00"),
    ("G-M03", "golden", "C03", "2026-11-04 09:00:00", "2026-11-04 09:30:00"),
    ("G-M04", "golden", "C04", "2026-11-20 09:00:00", "2026-11-21 08:00:00"),
    ("G-M05", "golden", "C05", "2026-12-10 09:00:00", ""),
]


def write_inputs() -> None:
    (HERE / "data").mkdir(exist_ok=True)
    for name, header, rows in (
        ("surveys", ["response_id", "department", "survey", "respondent", "date", "score"], SURVEYS),
        ("communications", ["message_id", "department", "customer_id", "created_at", "sent_at"], MESSAGES),
    ):
        with (HERE / "data" / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    packaged = yaml.safe_load(Path(load_template().path).read_text(encoding="utf-8"))
    by_id = {i["id"]: i for i in packaged["indicators"]}
    packaged.update(id="call_centre", name={"zh": "呼叫中心考核指标", "en": "Call centre KPIs"})
    packaged["groups"] = {"calls": {"zh": "呼叫", "en": "Calls"}}
    packaged["indicators"] = [
        {**by_id["CS10"], "id": "CC01", "group": "calls"},
        {**by_id["CS04"], "id": "CC02", "group": "calls"},
    ]
    (HERE / "template.yaml").write_text(yaml.safe_dump(packaged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    params = {
        "department": "golden",
        "name": "金样客服部",
        "template": "../template.yaml",
        "data": "../data",
        "lang": "zh",
        "review_date": "2026-12-20",
        "indicators": {
            "CC01": {"weight": 60, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
            "CC02": {"weight": 40, "target": 95, "step": 1, "penalty": 2, "bonus": 1, "sla": "24h"},
        },
    }
    (HERE / "params").mkdir(exist_ok=True)
    (HERE / "params" / "golden.yaml").write_text(
        yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def execute() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    for name, source, parameters in (
        ("calls", "group", {"params_path": "params/golden.yaml", "period": "2026-Q4", "group": "calls"}),
        ("scorecard", "scorecard", {"params_path": "params/golden.yaml", "period": "2026-Q4", "results_dir": "."}),
    ):
        output = HERE / f"{name}.ipynb"
        papermill.execute_notebook(
            str(SOURCE / f"{source}.ipynb"), str(output), parameters=parameters, cwd=str(HERE), progress_bar=False
        )
        settle(output)


if __name__ == "__main__":
    write_inputs()
    execute()
    print(
        f"wrote {HERE / 'calls.ipynb'} and {HERE / 'scorecard.ipynb'}; review `git diff tests/golden` before committing"
    )
