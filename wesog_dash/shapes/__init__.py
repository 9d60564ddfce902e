"""The JSON shapes the console's records are given out in: by /api/v1 and by the CLI's `--json`.

- `schemas`: the pydantic models; the API's OpenAPI components are generated from them.
- `serialize`: stored rows (deletions, operations, the audit verdict) to those models.
"""
