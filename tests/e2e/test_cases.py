"""The table-driven cases (tests/cases/*.cases) over HTTP against the real daemon: the same files
`moderatorctl cases` runs in-process, so the two paths cannot drift.
Each line: VERDICT | text | rules (space-separated rule names that must fire; "-" = none fire)."""

from pathlib import Path

import pytest

from conftest import ROOT

CASES_DIR = ROOT / "tests" / "cases"


def load_cases():
    cases = []
    for path in sorted(CASES_DIR.glob("*.cases")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            first, last = line.find("|"), line.rfind("|")
            where = f"{path.name}:{lineno}"
            if first < 0 or first == last:
                cases.append(pytest.param(None, line, None, id=where))
                continue
            verdict = line[:first].strip()
            text = line[first + 1:last].strip()
            rules = line[last + 1:].split()
            cases.append(pytest.param(verdict, text, rules, id=where))
    return cases


CASES = load_cases()


@pytest.mark.skipif(not CASES, reason="no tests/cases/*.cases files yet")
@pytest.mark.parametrize("verdict,text,rules", CASES or [pytest.param(None, None, None, id="none")])
def test_case_over_http(env, verdict, text, rules):
    assert verdict is not None, f"malformed case line (expected VERDICT | text | rules): {text}"
    r = env.post({"text": text}, env.keys["cms"])
    assert r.status == 200, r
    fired = [m["rule"] for m in r.json["matches"]]
    assert r.json["verdict"] == verdict, (text, fired)
    for rule in rules:
        if rule == "-":
            assert fired == [], (text, fired)
        else:
            assert rule in fired, (text, rule, fired)
