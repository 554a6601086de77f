"""Adapter for IBM's Telco customer churn sample (`Telco-Customer-Churn.csv`).

The export has no dates: `tenure` is the number of months a customer has been
with the company on the day of the snapshot, and `Churn` = Yes marks customers
who left within the last month. Against an as-of date (the snapshot day, the
end of the appraised month) that gives the key-account table of the template:

- `since`   = as-of date minus `tenure` months;
- `lost_on` = the as-of date when `Churn` is Yes, else empty;
- `name`    = the customer id (the export has no name).

The raw frame's index is kept, so every row number still points at the file.
The column mapping in the params renames `customerID` to `account_id` and adds
the department as a constant.
"""

from __future__ import annotations

from datetime import date

import pandas as pd


def key_accounts(raw: pd.DataFrame, options: dict) -> pd.DataFrame:
    as_of = pd.Timestamp(date.fromisoformat(str(options["as_of"])))
    tenure = pd.to_numeric(raw["tenure"], errors="raise").astype(int)
    frame = raw.copy()
    frame["since"] = [(as_of - pd.DateOffset(months=int(m))).date().isoformat() for m in tenure]
    frame["lost_on"] = raw["Churn"].str.strip().map({"Yes": as_of.date().isoformat(), "No": ""})
    frame["name"] = raw["customerID"]
    return frame
