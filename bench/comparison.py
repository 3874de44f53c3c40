"""What bench/side_by_side.py computes from its measurements: the order of the cases in each
round, the per-round ratios of a target to its reference, their median, the verdict, and
what wrk printed.

Pure functions only (no server, no database), so tests/bench/test_comparison.py checks them
without starting anything; the script imports this module as `comparison`, the tests as
`bench.comparison`.
"""

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """`case` must reach at least `factor` times the requests per second of `reference`."""

    case: str
    reference: str
    factor: float


@dataclass(frozen=True)
class Target:
    """A promise of the portal, met when every one of its requirements is."""

    label: str
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Judgement:
    requirement: Requirement
    ratios: tuple[float, ...]
    median: float

    @property
    def met(self) -> bool:
        return self.median >= self.requirement.factor


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    # Answers wrk counts as failed: any status but 2xx and 3xx, and socket errors.
    not_2xx_3xx: int
    socket_errors: int


def rotated(names: Sequence[str], round_index: int) -> list[str]:
    """The cases in the order of round `round_index`: each round starts one case later, so
    no case always runs first (on a cold cache) or right after the heaviest one."""
    if not names:
        return []
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


def round_ratios(target: Sequence[float], reference: Sequence[float]) -> list[float]:
    """Target over reference, round by round: both measured minutes apart at most, so drift
    of a shared machine hits them alike."""
    if len(target) != len(reference):
        raise ValueError("a ratio needs both cases measured in every round")
    return [t / r for t, r in zip(target, reference, strict=True)]


def judge(requirement: Requirement, rps: Mapping[str, Sequence[float]]) -> Judgement:
    """The verdict stands on the median of the per-round ratios: one lucky or unlucky round
    moves it no more than any other round."""
    ratios = round_ratios(rps[requirement.case], rps[requirement.reference])
    return Judgement(requirement, tuple(ratios), statistics.median(ratios))


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, lowest and highest."""
    return statistics.median(values), min(values), max(values)


_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)\b", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)", re.MULTILINE)
_NOT_2XX_3XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_parse(output: str) -> WrkResult:
    """The figures of one wrk run (its summary as wrk 4 prints it)."""
    requests = _REQUESTS.search(output)
    rps = _RPS.search(output)
    if requests is None or rps is None:
        raise ValueError(f"not a wrk summary: {output!r}")
    failed = _NOT_2XX_3XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    return WrkResult(
        requests=int(requests.group(1)),
        seconds=float(requests.group(2)) * _SECONDS[requests.group(3)],
        rps=float(rps.group(1)),
        not_2xx_3xx=int(failed.group(1)) if failed else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def lua_string(value: str) -> str:
    """`value` as a Lua string literal, for wrk's request script."""
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"only printable ASCII goes into a wrk script: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(method: str, body: str | None, headers: Mapping[str, str]) -> str:
    """A wrk script sending the same request on every connection (built once by wrk, so the
    driver costs the servers' CPUs as little as it can)."""
    lines = [f"wrk.method = {lua_string(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def verdict_line(target: Target, judgements: Sequence[Judgement]) -> str:
    """One line per target: each requirement's median ratio against its factor, and the
    verdict (met only when every requirement is)."""
    parts = [
        f"{j.median:.2f} x {j.requirement.reference} "
        f"(target {j.requirement.factor}: {'met' if j.met else 'missed'})"
        for j in judgements
    ]
    verdict = "met" if all(j.met for j in judgements) else "MISSED"
    return f"{target.label}: {'; '.join(parts)} -> {verdict}"


def rows_expected(
    *, answered: int, per_decision: int, runs: int, in_flight: int
) -> tuple[int, int]:
    """The fewest and most log rows the decisions of the rounds can have written: a set per
    answered decision, plus at most one set per connection and run (`in_flight`) for the
    requests a timed driver left in the server's hands when it stopped: those are handled
    and logged, but never counted as answered."""
    least = answered * per_decision
    return least, least + in_flight * runs * per_decision
