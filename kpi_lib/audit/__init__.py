"""The audit trail: manifests and input snapshots, verification (which never runs code), the sign-off log and its order, history, diffs, and which later periods show a changed one as it was.

Imports every layer below it; not `batch`."""
