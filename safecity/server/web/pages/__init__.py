"""The web UI's screens, one module each; `server.web.routes` includes their routers."""
