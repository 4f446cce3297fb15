"""The thin client for the Waves API.

Import the submodules you need (`smallest_cli.api.client`, `.voices`, …): this package
file stays light so that reading `smallest_cli.api.constants` never pulls in httpx.
"""

import sys

# `import httpx` also imports httpx's own command line, and with it rich and click, when
# they are installed (a third of its import time); this tool never runs it, and httpx
# falls back to a stub when the import fails, which a None entry here makes it do.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
