"""PostgreSQL cut off in the middle of a deletion (10 ids in chunks of 2), while a chunk is
being prepared: pages answer 503 with a sentence, the chunk is handed back and sent once the
database is back, and the deletion ends as the API did — 0 lost, 0 sent twice, 0 false. The
flow (`away_mid_deletion`) is shared with the real restart of test_postgres_restart.py, which
takes the database away while a chunk's answer is on its way back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url

from tests.conftest import FAST_POLLING, AuthActions, wait_for
from tests.faults.conftest import Harness
from tests.faults.cutting import CutProxy
from wesog_dash.models import FINAL_DELETION_STATES
from wesog_dash.sandbox import SandboxSettings

pytestmark = pytest.mark.postgresql_only
IDS = [str(100001 + n) for n in range(10)]
CHUNKS = 5


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Every API answer comes 0.8 s late: time to take the database away while one is on its
    way."""
    return SandboxSettings(
        api_key="outage-key-2f1b", images=60, item_ms=5, start_ms=5, latency_ms=800
    )


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 2, quick cycles, no reconcile grace."""
    return {
        **FAST_POLLING,
        "WESOG_CHUNK_SIZE": 2,
        "WESOG_RECONCILE_GRACE": 0.0,
        "WESOG_MAX_INFLIGHT_OPS": 10,
    }


@pytest.fixture
def proxy() -> Iterator[CutProxy]:
    """The cuttable way to the test database."""
    cutter = CutProxy()
    yield cutter
    cutter.cut()


@pytest.fixture
def database_url(database_url: str, proxy: CutProxy) -> str:
    """The test's PostgreSQL database, reached through the proxy."""
    url = make_url(database_url)
    port = proxy.start((url.host or "127.0.0.1", url.port or 5432))
    return url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def searches(harness: Harness) -> int:
    """Searches the sandbox answered: before each chunk, the images' metadata is kept."""
    stats = harness.http.get(f"{harness.sandbox.url}/_sandbox/stats", timeout=5).json()
    return int(stats.get("GET /imgs", 0))


# When the database goes: while the 2nd chunk's DELETE answer is on its way back, or while
# the 2nd chunk is being prepared (its images' metadata read), before anything is sent.
MOMENTS = {
    "answer on its way": lambda h: h.sends() >= 2,
    "before a chunk": lambda h: h.sends() == 1 and searches(h) >= 2,
}


# The other moment, the answer on its way, is met by a real restart (test_postgres_restart.py).
@pytest.mark.parametrize("moment", ["before a chunk"])
def test_postgresql_cut_off_mid_deletion(
    client: FlaskClient,
    auth: AuthActions,
    harness: Harness,
    proxy: CutProxy,
    caplog: pytest.LogCaptureFixture,
    moment: str,
) -> None:
    auth.login("operator")
    away_mid_deletion(client, harness, caplog, moment, proxy.cut, proxy.restore)


def away_mid_deletion(
    client: FlaskClient,
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    moment: str,
    away: Callable[[], None],
    back: Callable[[], None],
) -> None:
    """Delete IDS with the poller running, take the database `away` at `moment`, see the
    pages say so, bring it `back`: the deletion ends as the API did, every chunk sent once."""
    deletion_id = harness.delete(IDS)
    stop = threading.Event()
    poller = threading.Thread(target=harness.poller.run_forever, args=(stop,), daemon=True)
    with caplog.at_level("WARNING"):
        poller.start()
        try:
            wait_for(lambda: MOMENTS[moment](harness), timeout=30, interval=0.005)
            away()
            page = client.get("/ops")
            assert page.status_code == 503 and page.headers["Retry-After"]
            assert "database is not answering" in page.get_data(as_text=True)
            answer = client.get("/api/v1/me", headers={"Authorization": "Bearer x"})
            assert answer.status_code == 503
            assert answer.get_json()["type"].endswith("/database-unavailable")
            # The dispatcher met the outage: it writes again, or (before this fix) gave up.
            wait_for(lambda: "writing again" in caplog.text or "failed" in caplog.text, 30)
            back()  # the database is back: no restart of anything of ours
            wait_for(lambda: harness.state(deletion_id) in FINAL_DELETION_STATES, timeout=60)
        finally:
            stop.set()
            poller.join(30)
    assert client.get("/ops").status_code == 200
    assert harness.state(deletion_id) == "done"
    items = harness.items(deletion_id)
    assert [item["outcome"] for item in items] == ["deleted"] * len(IDS)
    assert not any(item["inferred"] for item in items)
    assert harness.sends() == CHUNKS  # every chunk once: none lost, none twice
    assert not any(harness.present(image_id) for image_id in IDS)
    harness.ids = [deletion_id]
    assert harness.false_outcomes() == []
