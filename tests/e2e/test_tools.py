"""moderatorctl check/show, and the systemd unit."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DAEMON, ROOT, ctl


def test_check_plain_text(env):
    out = ctl(env.db, "check", rules=env.rules, stdin="you are a fucking idiot\n").stdout
    assert "verdict: block" in out
    # rule  category  weight  start-end  "text"  (matched)
    assert re.search(r'^\s+profanity\.\S+\s+profanity\s+[\d.]+\s+10-17\s+"fucking"\s+\(', out, re.M), out
    assert re.search(r'^\s+personal_attack\.\S+\s+personal_attack\s+[\d.]+\s+18-23\s+"idiot"', out,
                     re.M), out


def test_check_json_input_and_output(env):
    p = ctl(env.db, "check", "--json", rules=env.rules,
            stdin='{"text": "Turnout in the referendum was high.", "mentions": ["x"]}')
    j = json.loads(p.stdout)
    assert j["verdict"] == "accept" and j["matches"] == [] and j["id"] is None
    assert len(j["ruleset"]) == 16


def test_number_options_are_whole_numbers(tmp_path):
    """A count, cursor or age that is not a whole number in range is refused (exit 2), not read
    as 0 the way atol would; the message names the command, the option and the value."""
    db = tmp_path / "x.db"
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({"text": t, "expected": "accept"})
                              for t in ("you idiot", "you moron", "a fine day")) + "\n")
    refused = [
        (("eval", rows, "--limit", "x"), 'eval: --limit "x" is not a whole number of 0 or more'),
        (("eval", rows, "--limit", "-1"), '--limit "-1"'),
        (("eval", rows, "--repeat", "0"), 'eval: --repeat "0" is not a whole number from 1 to 1000'),
        (("rules", "diff", ROOT / "rules", ROOT / "rules", "--on", rows, "--limit", " 5"),
         'rules diff: --limit " 5"'),
        (("audit", "export", "--after", "1x"), 'audit export: --after "1x"'),
        (("audit", "prune", "--older-than", "5d"),
         'audit prune: --older-than "5d" is not a whole number from 0 to 100000'),
        (("queue", "list", "--limit", "1001"), 'queue list: --limit "1001"'),
    ]
    for args, message in refused:
        p = ctl(db, *args, rules=ROOT / "rules", check=False)
        assert p.returncode == 2 and message in p.stderr and p.stdout == "", (args, p.stderr)
    # in range, the number is used: one false positive of two shown
    p = ctl(db, "eval", rows, "--errors", "fp", "--limit", "1", "--repeat", "1", rules=ROOT / "rules")
    assert len([l for l in p.stdout.splitlines() if l.startswith("FP ")]) == 1, p.stdout
    p = ctl(db, "eval", rows, "--errors", "fp", "--limit", "5", "--repeat", "1", rules=ROOT / "rules")
    assert len([l for l in p.stdout.splitlines() if l.startswith("FP ")]) == 2, p.stdout


def test_every_command_reads_options_alike(tmp_path):
    """One option reader: a stray argument, an option without its value or a missing argument
    exits 2 naming the problem, then the command's usage; nothing is done."""
    db = tmp_path / "x.db"
    refused = [
        (("eval", "rows.jsonl", "--bogus"), 'eval: unexpected "--bogus"', "usage: moderatorctl eval"),
        (("eval",), "eval: missing argument", "usage: moderatorctl eval FILE.jsonl"),
        (("eval", "rows.jsonl", "--limit"), "eval: --limit needs a value", "usage: moderatorctl eval"),
        (("eval", "rows.jsonl", "--errors", "xx"), "--errors takes fp, fn or all", ""),
        (("rules", "lint", "--bogus"), 'rules lint: unexpected "--bogus"', "usage: moderatorctl rules lint"),
        (("rules", "diff", "a", "b"), "rules diff: --on FILE.jsonl is required", "OLD, NEW:"),
        (("rules", "diff", "a", "--on", "x"), "rules diff: missing argument", "usage: moderatorctl rules diff"),
        (("explain",), "explain: missing argument", "usage: moderatorctl explain ID"),
        (("audit", "export", "--out"), "audit export: --out needs a value", "usage: moderatorctl audit export"),
        (("audit", "prune", "--dry-run"), "--older-than DAYS is required", "DAYS: a whole number"),
        (("audit", "verify", "extra"), 'audit verify: unexpected "extra"', "usage: moderatorctl audit verify"),
        (("queue", "list", "extra"), 'queue list: unexpected "extra"', "usage: moderatorctl queue list"),
        (("reject", "x"), "reject needs --reason R", ""),
        (("ban",), "ban: missing argument", "usage: moderatorctl ban AUTHOR --reason R"),
        (("key", "add", "--bogus"), 'key add: unexpected "--bogus"', "usage: moderatorctl key add"),
        (("cases",), "cases: missing argument", "usage: moderatorctl cases"),
    ]
    for args, problem, usage in refused:
        p = ctl(db, *args, rules=ROOT / "rules", check=False)
        assert p.returncode == 2 and problem in p.stderr and usage in p.stderr, (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)
    assert not db.exists()  # nothing was opened, let alone written
    p = ctl(db, "eval", "-h", check=False)  # asked for: the usage alone
    assert p.returncode == 2 and p.stderr.startswith("usage: moderatorctl eval FILE.jsonl"), p.stderr
    # --rules after the paths is read too: a directory that is not there fails the run
    p = ctl(db, "cases", ROOT / "tests" / "cases", "--rules", tmp_path / "nonexistent", check=False)
    assert p.returncode == 1 and "cannot open rules directory" in p.stderr, p.stderr
    # flags and options in any order around the positional argument
    p = ctl(db, "rules", "lint", "-W", ROOT / "rules", "--strict")
    assert "0 errors, 0 warnings" in p.stdout


def test_unreadable_thresholds_file_names_its_fix(tmp_path):
    p = ctl(tmp_path / "x.db", "rules", "lint", ROOT / "rules", "--thresholds",
            tmp_path / "missing.conf", check=False)
    assert p.returncode == 1, p.stderr
    assert re.search(r"missing\.conf.*cannot read: No such file or directory "
                     r"\(hint: check the file's permissions\)", p.stdout), p.stdout


def test_check_rejects_bad_json(env):
    p = ctl(env.db, "check", rules=env.rules, stdin='{"text": 5}', check=False)
    assert p.returncode != 0 and '"text"' in p.stderr


def test_show_prints_the_stored_record(env):
    post = env.post({"text": "you are all idiots", "site": "s", "id": "show-1"}, env.keys["cms"])
    out = ctl(env.db, "show", post.json["id"]).stdout
    rec = json.loads(out)
    api = env.request("GET", f"/v1/comments/{post.json['id']}", key=env.keys["moderator"]).json
    assert rec == api
    assert "\n  " in out  # pretty
    missing = ctl(env.db, "show", "nope", check=False)
    assert missing.returncode != 0


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_unit_verifies(tmp_path):
    unit = (ROOT / "systemd" / "moderatord.service").read_text()
    assert "DynamicUser=yes" in unit and "StateDirectory=moderatord" in unit
    # verify wants the binary to exist: point the unit at the one just built.
    unit = unit.replace("/usr/local/bin/moderatord", str(DAEMON))
    path = tmp_path / "moderatord.service"
    path.write_text(unit)
    p = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    problems = [l for l in p.stderr.splitlines() if "moderatord.service" in l]
    assert not problems, problems
