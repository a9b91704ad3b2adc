"""Tables in and out: reading files as people export them (dialects, file checks,
inferred schemas), atomic writes and safe names for paths."""
