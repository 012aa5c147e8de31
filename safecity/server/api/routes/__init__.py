"""One module per resource under `/api/v1`; each defines its own `router`."""
