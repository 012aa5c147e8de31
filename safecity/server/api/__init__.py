"""The HTTP API (`/api/v1`, FastAPI): the same operations as the CLI, through the same access gate."""
