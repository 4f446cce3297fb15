"""The jobs behind the commands: one module per job, between the thin commands and `api/`."""
