"""Reading many images at once: probed once, remembered, probed again after an error; and
`GET /ops` with or without paging. Against the real sandbox in both dialects."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.wesog import Image, WesogClient
from wesog_dash.wesog.many import ReadLimit, formula, pack, read_images

# Newest first: no two ids in a row are consecutive numbers, so none travels in a range.
IDS = [str(101000 - n) for n in range(1000)]


@pytest.fixture
def sandbox_settings(dialect: str) -> SandboxSettings:
    """1,000 seeded images, so that a read needs more than one formula."""
    return SandboxSettings(api_key="test-key-5f3a", images=1000, dialect=dialect)


@pytest.fixture
def client(sandbox: SandboxServer) -> WesogClient:
    return WesogClient(sandbox.url, sandbox.settings.api_key, timeout=(3.05, 10))


def searches(sandbox: SandboxServer) -> tuple[int, int]:
    """(formula searches, single image reads) the sandbox received; counters reset."""
    stats = sandbox.state.stats
    counts = stats["GET /imgs"], stats["GET /imgs/{image_id}"]
    sandbox.state.reset_stats()
    return counts


@pytest.mark.parametrize("dialect", ["sandbox"])
def test_the_sandbox_takes_an_intersection_list_found_by_one_probe(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    first = read_images(client, IDS)
    assert all(isinstance(first[i], Image) for i in IDS)
    assert searches(sandbox) == (3, 0), "a probe of two ids, then 998 ids in two formulas"
    assert client.capabilities.ids.mode == "list"
    read_images(client, IDS)
    assert searches(sandbox) == (2, 0), "remembered: no probe, the longest formula at once"
    assert client.capabilities.ids.probes == 1


@pytest.mark.parametrize("dialect", ["reference"])
def test_the_reference_refuses_lists_so_or_chains_are_used_and_remembered(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    first = read_images(client, IDS)
    assert all(isinstance(first[i], Image) for i in IDS)
    formulas, singles = searches(sandbox)
    assert singles == 0, "never one call per id while a formula works"
    assert formulas <= 6, "a refused list probe, an || probe, about 1,000 ÷ 380 chains"
    assert client.capabilities.ids.mode == "or"
    read_images(client, IDS)
    assert searches(sandbox) == (3, 0), "remembered: 1,000 ids in three chains, no probe"
    assert client.capabilities.ids.probes == 2


@pytest.mark.parametrize("dialect", ["sandbox", "reference"])
def test_consecutive_ids_travel_as_a_range(client: WesogClient, sandbox: SandboxServer) -> None:
    read_images(client, IDS[:2])  # the probe, out of the way
    searches(sandbox)
    ascending = sorted(IDS, key=int)
    found = read_images(client, [*ascending, "no-such-image"])
    assert all(isinstance(found[i], Image) for i in ascending)
    assert found["no-such-image"] is None
    assert searches(sandbox) == (1, 0), "1,000 ids in one range, the odd one beside it"


def test_a_formula_carries_runs_as_ranges_and_the_rest_as_they_are() -> None:
    ids = ["7", "8", "9", "11", "12", "010", "011", "012", "abc"]
    assert formula("or", ids) == "(id>=7&&id<=9)||id=11||id=12||id=010||id=011||id=012||id=abc"
    assert formula("list", ids) == "(id>=7&&id<=9)||id∩11,12,010,011,012,abc"
    assert formula("list", ["1", "2"]) == "id∩1,2"


def test_a_huge_run_is_split_so_each_answer_fits_one_page() -> None:
    ids = [str(n) for n in range(1, 12_001)]
    groups = list(pack("or", ids, 6500))
    assert [len(group) for group in groups] == [5000, 5000, 2000]
    assert [formula("or", group) for group in groups][1] == "(id>=5001&&id<=10000)"


@pytest.mark.parametrize("dialect", ["sandbox"])
def test_a_refusal_of_a_size_that_worked_before_probes_again(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    read_images(client, IDS)
    assert client.capabilities.ids.mode == "list"
    sandbox.settings.dialect = "reference"  # as if the API were replaced meanwhile
    again = read_images(client, IDS)
    assert all(isinstance(again[i], Image) for i in IDS)
    assert client.capabilities.ids.mode == "or"
    assert client.capabilities.ids.forgotten == 1
    assert client.capabilities.ids.probes == 3, "list (sandbox), then list refused and ||"


@pytest.mark.parametrize("dialect", ["sandbox"])
def test_after_a_failing_api_the_next_read_probes_again(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    read_images(client, IDS[:10])
    sandbox.settings.rate_5xx = 1.0
    failed = read_images(client, IDS)
    assert all(str(failed[i]).startswith("could not be read") for i in IDS)
    assert client.capabilities.ids.mode is None, "forgotten after the error"
    sandbox.settings.rate_5xx = 0.0
    searches(sandbox)
    again = read_images(client, IDS)
    assert all(isinstance(again[i], Image) for i in IDS)
    assert searches(sandbox) == (3, 0), "one new probe, then the longest formulas again"


@pytest.mark.parametrize("dialect", ["reference"])
def test_when_no_formula_is_accepted_each_image_is_read_alone(
    client: WesogClient, sandbox: SandboxServer
) -> None:
    rule = {"endpoint": "search", "field": "count", "value": None, "status": 422, "count": None}
    sandbox.settings.malformed = [rule]
    found = read_images(client, [*IDS[:5], "gone"])
    assert all(isinstance(found[i], Image) for i in IDS[:5])
    assert found["gone"] is None, "not found upstream"
    assert searches(sandbox) == (2, 6), "two refused probes, then one GET per id"
    assert client.capabilities.ids.mode == "single"
    read_images(client, IDS[:5])
    assert searches(sandbox) == (0, 5), "remembered: no more probes"


@pytest.mark.parametrize("dialect", ["sandbox"])
def test_a_read_limit_leaves_the_rest_unread(client: WesogClient, sandbox: SandboxServer) -> None:
    found = read_images(client, IDS, ReadLimit(calls=2))
    assert 0 < len(found) < len(IDS), "the probe and one formula, nothing more"
    assert searches(sandbox) == (2, 0)


@pytest.mark.parametrize("dialect", ["sandbox", "reference"])
def test_the_ops_list_is_known_paged_or_bare(
    client: WesogClient, sandbox: SandboxServer, dialect: str
) -> None:
    op_ids = [client.delete_image(image_id).op_id for image_id in IDS[:3]]
    assert client.capabilities.ops_paged is None
    listed = client.list_operations(page=1, limit=2)
    if dialect == "sandbox":
        assert [op.op_id for op in listed] == op_ids[::-1][:2]
        assert client.capabilities.ops_paged is True
    else:
        assert [op.op_id for op in listed] == op_ids[::-1], "every operation, whatever asked"
        assert client.capabilities.ops_paged is False
    wait_for(lambda: client.get_operation(op_ids[-1]).is_finished)


@pytest.mark.parametrize("dialect", ["sandbox"])
def test_a_429_keeps_what_was_learned(client: WesogClient, sandbox: SandboxServer) -> None:
    read_images(client, IDS[:10])
    sandbox.settings.rate_429 = 1.0
    refused = read_images(client, IDS)
    assert all(str(refused[i]).startswith("could not be read") for i in IDS)
    assert client.capabilities.ids.mode == "list", "the API is busy, not changed"
    sandbox.settings.rate_429 = 0.0
    searches(sandbox)
    read_images(client, IDS)
    assert searches(sandbox) == (2, 0), "no new probe"
