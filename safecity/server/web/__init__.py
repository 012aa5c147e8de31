"""The web UI: server-rendered pages (Jinja2) for operators, investigators, auditors, admins and the public.

Served by the same FastAPI application as the API (`create_app` includes `router`). Pages call
the domain functions directly, through the access gate, so every read of personal data a page
shows is checked and recorded exactly as the API's reads are. The browser loads nothing from any
host but this server: the CSS and the one script are in `static/`, maps and charts are inline
SVG computed on the server, and every response carries a strict Content-Security-Policy.
"""

from __future__ import annotations

from safecity.server.web.routes import router

__all__ = ["router"]
