"""The analyst's web UI: server-rendered pages (Jinja2, htmx) over the same services as the API,
served by `vigil serve` at `/`. Every asset comes from the package: no page calls a CDN."""
