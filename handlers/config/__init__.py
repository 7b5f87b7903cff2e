"""Config as code: the organisation as a YAML file (`pulsecoach apply`, `export-config`).

- `schema`: the file format as pydantic models;
- `loader`: YAML text -> validated model, errors as ``file:line: field: reason``;
- `apply`: apply a file (one transaction, idempotent, dry-run) and export the database.
"""
