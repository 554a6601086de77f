"""The template and its inputs: templates, periods, calendars and zones, params and company files as validated data; tables read cell by cell (files or a database), every problem named with file, row and column; each department's own rows as its partition.

Imports `base` only."""
