"""Who acts from the command line, as the audit trail names them."""

from __future__ import annotations

import getpass
import os


def cli_actor() -> str:
    """The actor of a command-line action: `cli:<os user>`."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        name = f"uid{os.getuid()}"
    return f"cli:{name}"
