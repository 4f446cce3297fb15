"""The thin client for the Waves API.

Import the submodules you need (`smallest_cli.api.client`, `.voices`, …): this package
file stays empty so that reading `smallest_cli.api.constants` never pulls in httpx.
"""
