"""The bad-input corpus of issue 8: a valid company in three formats and tables of hostile or messy cases."""
