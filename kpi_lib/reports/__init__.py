"""Notebooks and reports: what the notebooks call, reading back what they recorded, a department's earlier periods, xlsx/CSV/PDF exports, the period's index and summary, nbconvert HTML, headless Chromium.

Imports the layers below it: `base`, `inputs`, `scoring`, `words`."""
