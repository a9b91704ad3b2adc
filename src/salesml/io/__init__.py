"""Tables in and out: reading files as people export them (dialects, file checks,
inferred schemas, formatted numbers, dates with UTC offsets), atomic writes and safe names
for paths. :mod:`salesml.io.data` lists the rules for odd formats; ``data/README.md``
explains them for users."""
