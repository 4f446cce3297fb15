"""One module per command group; each defines `app`, wired into the root in app.py."""
