"""The pure parts of bench/side_by_side.py (bench/comparison.py), and the promise that its
anchor runs the very reference views the portal's benchmarks run. Nothing here starts a
server or makes a virtual environment."""

import ast
from pathlib import Path

import pytest

from bench.comparison import (
    Requirement,
    Target,
    judge,
    lua_string,
    rotated,
    round_ratios,
    rows_expected,
    spread,
    verdict_line,
    wrk_parse,
    wrk_script,
)

BENCH = Path(__file__).resolve().parents[2] / "bench"

WRK_CLEAN = """\
Running 3s test @ http://127.0.0.1:18931/bench/page/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    1.35ms  10.89ms   85.53%
    Req/Sec     1.53k   436.76     2.35k    80.00%
  4526 requests in 3.00s, 2.87MB read
Requests/sec:   1508.71
Transfer/sec:      0.96MB
"""

WRK_FAILING = """\
Running 1s test @ http://127.0.0.1:18931/missing
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.46ms    1.65ms  12.24ms   83.99%
    Req/Sec     1.88k   737.29     3.46k    72.73%
  2056 requests in 1.10s, 1.02MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 2056
Requests/sec:   1868.91
Transfer/sec:      0.93MB
"""


def test_each_round_starts_one_case_later():
    names = ["a", "b", "c"]

    assert [rotated(names, r) for r in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def test_ratios_are_taken_round_by_round():
    assert round_ratios([90, 200], [100, 100]) == [0.9, 2.0]


def test_a_ratio_needs_both_cases_in_every_round():
    with pytest.raises(ValueError, match="every round"):
        round_ratios([90, 200], [100])


def test_the_verdict_stands_on_the_median_of_the_round_ratios():
    rps = {"portal": [80, 95, 300], "anchor": [100, 100, 100]}

    judgement = judge(Requirement("portal", "anchor", 0.9), rps)

    assert judgement.ratios == (0.8, 0.95, 3.0)
    assert judgement.median == 0.95
    assert judgement.met


def test_a_median_ratio_just_below_the_factor_misses():
    rps = {"portal": [89, 89, 200], "anchor": [100, 100, 100]}

    assert not judge(Requirement("portal", "anchor", 0.9), rps).met


def test_a_target_is_met_only_when_every_requirement_is():
    rps = {"visit": [120, 120], "page": [100, 100], "static": [200, 200]}
    target = Target(
        "first visit",
        (Requirement("visit", "page", 1.1), Requirement("visit", "static", 0.9)),
    )

    line = verdict_line(target, [judge(r, rps) for r in target.requirements])

    assert line == (
        "first visit: 1.20 x page (target 1.1: met); 0.60 x static (target 0.9: missed) -> MISSED"
    )


def test_spread_is_median_lowest_highest():
    assert spread([3.0, 1.0, 2.0, 10.0]) == (2.5, 1.0, 10.0)


def test_a_clean_wrk_summary_is_read():
    result = wrk_parse(WRK_CLEAN)

    assert (result.requests, result.seconds, result.rps) == (4526, 3.0, 1508.71)
    assert (result.not_2xx_3xx, result.socket_errors) == (0, 0)


def test_wrk_failures_are_counted():
    result = wrk_parse(WRK_FAILING)

    assert (result.not_2xx_3xx, result.socket_errors) == (2056, 6)


def test_anything_but_a_wrk_summary_is_refused():
    with pytest.raises(ValueError, match="not a wrk summary"):
        wrk_parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_wrk_script_sends_method_body_and_headers():
    script = wrk_script("POST", 'a=1&b="2"', {"Cookie": "csrftoken=x\\y"})

    assert script == (
        'wrk.method = "POST"\n'
        'wrk.body = "a=1&b=\\"2\\""\n'
        'wrk.headers["Cookie"] = "csrftoken=x\\\\y"\n'
    )


def test_only_printable_ascii_goes_into_a_wrk_script():
    with pytest.raises(ValueError, match="printable ASCII"):
        lua_string("line\nbreak")


def test_rows_of_requests_in_flight_when_a_run_stopped_are_allowed():
    assert rows_expected(answered=100, per_decision=3, runs=6, in_flight=8) == (300, 444)
    assert rows_expected(answered=100, per_decision=1, runs=6, in_flight=0) == (100, 100)


def _definitions(path: Path) -> dict[str, str]:
    """The source of each top-level function and assignment of a module, by name."""
    source = path.read_text()
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            decorators = [f"@{ast.get_source_segment(source, d)}\n" for d in node.decorator_list]
            found[node.name] = "".join(decorators) + ast.get_source_segment(source, node)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.get_source_segment(source, node)
    return found


@pytest.mark.parametrize("name", ["BARE_TABLE", "PAGE", "bare_insert", "bare_page"])
def test_the_anchor_runs_the_portal_reference_views_byte_for_byte(name):
    portal = _definitions(BENCH / "urls.py")
    anchor = _definitions(BENCH / "anchor" / "anchor" / "views.py")

    assert anchor[name] == portal[name]
