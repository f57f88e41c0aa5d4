"""Mutation scores per module from mutmut's results, leaving out the equivalent mutants docs/mutation.md lists.

Run by `make mutation` after `mutmut run`, from the repository root:

    .venv/bin/mutmut results --all true | .venv/bin/python tests/mutation_score.py

A mutant is equivalent when no input can tell it from the original (see docs/mutation.md for each one and why).
The score is killed / (every checked mutant - equivalent ones); surviving mutants that are not listed as
equivalent are printed, so they can be looked at with `mutmut show NAME`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

NOTES = Path(__file__).resolve().parent.parent / "docs" / "mutation.md"
_RESULT = re.compile(r"^\s*(pprfeed\.\S+?)\.(x_|xǁ)\S*__mutmut_\d+: (.+)$")
_NAME = re.compile(r"`(pprfeed\.[^`\s]+__mutmut_\d+)`")
KILLED = {"killed", "timeout", "caught by type check"}
NOT_RUN = {"not checked", "skipped"}


def equivalent_mutants(notes: str) -> set[str]:
    """Every mutant named in the notes' "Equivalent mutants" section."""
    _, _, section = notes.partition("## Equivalent mutants")
    section = section.split("\n## ", 1)[0]
    return set(_NAME.findall(section))


def scores(results: list[str], equivalent: set[str]) -> tuple[dict[str, Counter[str]], dict[str, list[str]]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in results:
        match = _RESULT.match(line)
        if not match:
            continue
        name, module, status = line.split(":")[0].strip(), match[1], match[3].strip()
        if status in NOT_RUN:
            continue
        if name in equivalent:
            counts[module]["equivalent"] += 1
        elif status in KILLED:
            counts[module]["killed"] += 1
        else:
            counts[module]["survived"] += 1
            survivors[module].append(f"{name} ({status})")
    return counts, survivors


def main() -> int:
    equivalent = equivalent_mutants(NOTES.read_text(encoding="utf-8"))
    counts, survivors = scores(sys.stdin.read().splitlines(), equivalent)
    if not counts:
        print("no mutmut results on standard input: run `mutmut run` first", file=sys.stderr)
        return 1
    print(f"{'module':<26} {'killed':>7} {'survived':>9} {'equivalent':>11} {'score':>7}")
    for module in sorted(counts):
        count = counts[module]
        counted = count["killed"] + count["survived"]
        score = f"{100 * count['killed'] / counted:.1f}%" if counted else "-"
        print(f"{module:<26} {count['killed']:>7} {count['survived']:>9} {count['equivalent']:>11} {score:>7}")
    for module in sorted(survivors):
        print(f"\nsurviving in {module} (a missing test, or an equivalent mutant to list in docs/mutation.md):")
        for name in survivors[module]:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
