"""The HTTP API (FastAPI) over the report service: `vigil serve`."""
