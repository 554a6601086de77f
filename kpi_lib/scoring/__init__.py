"""Scoring: rates from rows, scores from rates, the weighted total and the typed result.

Imports `base` and `inputs`."""
