"""Words and pictures: formulas with their numbers in words, the template's 13-column row, charts per rate kind, HTML fragments from Jinja2 in one language per page.

Imports `base`, `inputs` and `scoring`."""
