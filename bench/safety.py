"""Keeping what is deleted: the upstream cost of reading each image's metadata before sending.

Snapshots of N ids are read with `id∩…` search formulas, as many ids per `GET /imgs` as fit in
`keeping.FORMULA_CHARS`, instead of one `GET /imgs/{id}` per image. This prints, for N ids, the
calls each way (counted by the sandbox) and the time each way, as ratios. Nothing is deleted.

    .venv/bin/python bench/safety.py [--ids 2000]
"""

from __future__ import annotations

import argparse
import time

from _support import create_app, migrated_database, start_sandbox


def main() -> None:
    """Read N images' metadata both ways and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=2000)
    args = parser.parse_args()
    sandbox = start_sandbox(images=args.ids, item_ms=0, start_ms=0)
    uri = migrated_database({})
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "WESOG_POLLER": "off",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": sandbox.settings.api_key,
        }
    )
    from wesog_dash.deletions.sending.keeping import read_metadata
    from wesog_dash.upstream import wesog_client

    ids = [str(100001 + n) for n in range(args.ids)]
    try:
        with app.app_context():
            sandbox.state.reset_stats()
            started = time.perf_counter()
            paged = read_metadata(ids)
            paged_s = time.perf_counter() - started
            paged_calls = sum(sandbox.state.stats.values())
            sandbox.state.reset_stats()
            client = wesog_client()
            started = time.perf_counter()
            single = {image_id: client.get_image(image_id) for image_id in ids}
            single_s, single_calls = (
                time.perf_counter() - started,
                sum(sandbox.state.stats.values()),
            )
        assert {k: v.fields for k, v in paged.items()} == {k: v.fields for k, v in single.items()}
    finally:
        app.extensions["wesog_upstream"].close()
        sandbox.stop()
    print(f"{args.ids} ids: paged search {paged_calls} calls, one GET per id {single_calls} calls")
    print(f"calls ratio (per-id / paged): {single_calls / paged_calls:.0f}x")
    print(f"time ratio  (per-id / paged): {single_s / paged_s:.1f}x")


if __name__ == "__main__":
    main()
