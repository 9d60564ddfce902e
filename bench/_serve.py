"""Processes the benchmarks start: the dashboard's web server, or the sandbox, on a port.

python bench/_serve.py web PORT        # configuration from the environment (DATABASE_URL…)
python bench/_serve.py sandbox PORT IMAGES ITEM_MS START_MS API_KEY
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server


def main() -> None:
    """Serve until killed."""
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "web":
        from wesog_dash import create_app

        # Benchmarks log many users in from one address: the login limit would refuse them.
        app = create_app({"WESOG_LOGIN_THROTTLE": False})
    else:
        from wesog_dash.sandbox import SandboxSettings, create_sandbox_app

        images, item_ms, start_ms, key = sys.argv[3:7]
        settings = SandboxSettings(
            api_key=key, images=int(images), item_ms=int(item_ms), start_ms=int(start_ms)
        )
        app = create_sandbox_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"serving {kind} on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
