"""The settings file (/etc/moderatord/moderatord.conf; a fully commented sample in the
repo). Flags override it; limits, thresholds file, listen address, db path, rules dir and log
level are all settable; every problem is reported as file:line and the daemon refuses to start."""

import re
import subprocess

from adminhelp import admin_key, rules_copy, rules_state, wait_for, write_atomic
from conftest import CTL, DAEMON, ROOT, RULES, Daemon, add_key, assert_sanitizers_quiet, ctl

SAMPLE = ROOT / "moderatord.conf.sample"


def run(*args, timeout=120):
    return subprocess.run([str(DAEMON), *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=timeout)


def test_settings_file_drives_the_daemon(tmp_path):
    rules = rules_copy(tmp_path)
    thresholds = tmp_path / "thresholds.conf"
    # personal attacks block at 3 here, instead of the rules' 8
    thresholds.write_text("profanity 3 12\npersonal_attack 2 3\nethnic_slur 3 8\ntotal 4 12\n")
    db = tmp_path / "m.db"
    conf = tmp_path / "moderatord.conf"
    conf.write_text(f"""# test settings
listen = 127.0.0.1:0
db {db}
rules "{rules}"   # quoted
thresholds {thresholds}
max_body 1K
log_level warning
watch_rules yes
reload_delay 50ms
connection_timeout 10s
threads 2
""")
    keys = {r: add_key(db, r, f"{r}-c") for r in ("cms", "admin")}
    d = Daemon(tmp_path, db, rules).start(["--config", conf])
    d.keys = keys
    try:
        r = d.post({"text": "x" * 2000}, keys["cms"])
        assert r.status == 413 and "1024" in r.json["message"]
        r = d.post({"text": "you are an idiot"}, keys["cms"])
        assert r.status == 200 and r.json["verdict"] == "block"
        assert r.json["thresholds"]["personal_attack"] == {"hold": 2, "block": 3}
        # moderatorctl scores with the same thresholds; another rules directory keeps its own.
        for extra, verdict, pa in (([], "block", "2/3"), (["--rules", RULES], "hold", "3/8")):
            p = subprocess.run([str(CTL), "--config", str(conf), *map(str, extra), "check"],
                               input="you are an idiot", capture_output=True, text=True,
                               timeout=120)
            assert p.returncode == 0, p.stderr
            assert f"verdict: {verdict}" in p.stdout and f"personal_attack {pa}" in p.stdout, p.stdout
        s = rules_state(d, keys["admin"])
        assert s["thresholds_file"] == str(thresholds) and s["watching"] is True
        assert s["thresholds"]["personal_attack"]["block"] == 3
        v1 = s["version"]
        # The thresholds file is watched like the rules, and kept as the version's policy.conf.
        write_atomic(thresholds, "profanity 3 12\npersonal_attack 3 8\nethnic_slur 3 8\ntotal 4 12\n")
        wait_for(lambda: rules_state(d, keys["admin"])["version"] != v1, what="thresholds reload")
        assert d.post({"text": "you are an idiot"}, keys["cms"]).json["verdict"] == "hold"
        shown = ctl(db, "rules", "show", v1, "policy.conf").stdout
        assert "personal_attack 2 3" in shown
        # A broken thresholds file is named by its own path.
        write_atomic(thresholds, "personal_attack 9 3\n")
        err = wait_for(lambda: rules_state(d, keys["admin"])["error"], what="the error")
        assert err["error"].startswith(f"{thresholds}:1:"), err
        # log_level warning: no access log, but the failed reload is there.
        log = d.log_text()
        assert "POST /v1/comments" not in log and "listening on" not in log
        assert "warning: " in log or "error: " in log
        # moderatorctl finds the database through the same file.
        p = subprocess.run([str(CTL), "--config", str(conf), "audit", "verify"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "intact" in p.stdout, p.stdout + p.stderr
    finally:
        assert d.stop() == 0
        assert_sanitizers_quiet(d)


def test_flags_override_the_file(tmp_path):
    db = tmp_path / "m.db"
    conf = tmp_path / "m.conf"
    conf.write_text(f"listen 127.0.0.1:1\ndb /nonexistent/x.db\nrules {RULES}\nmax_body 1K\n")
    key = add_key(db, "cms", "c")
    d = Daemon(tmp_path, db).start(["--config", conf, "--listen", "127.0.0.1:0", "--db", db,
                                    "--max-body=4K"])
    try:
        assert d.post({"text": "x" * 2000}, key).status == 200
        assert d.post({"text": "x" * 5000}, key).status == 413
    finally:
        assert d.stop() == 0


def test_every_problem_is_named_by_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("# comment\nmax_body lots\nlisten nowhere\nlog_levle debug\n"
                    "watch_rules perhaps\nrules \"unterminated\n= 3\n")
    for args in (["--config", conf], ["-n", "--config", conf]):
        p = run(*args, "--db", tmp_path / "x.db")
        assert p.returncode == (1 if "-n" in args else 2), p.stderr
        err = p.stderr
        assert f"{conf}:2: max_body: \"lots\" is not a size" in err
        assert f"{conf}:3: listen: \"nowhere\" is not ADDR:PORT" in err
        assert f"{conf}:4: log_levle: unknown setting \"log_levle\" (did you mean log_level?)" in err
        assert f"{conf}:5: watch_rules: \"perhaps\" is not yes or no" in err
        assert f"{conf}:6: " in err and "closing" in err
        assert f"{conf}:7: " in err
        assert "listening on" not in p.stdout
    p = run("--config", tmp_path / "missing.conf")
    assert p.returncode == 2 and "missing.conf: cannot open" in p.stderr
    p = run("--max-bdy", "1K")
    assert p.returncode == 2 and "unknown option --max-bdy (did you mean --max-body?)" in p.stderr
    p = run("--max-body")
    assert p.returncode == 2 and "needs a value" in p.stderr


def test_sample_documents_every_setting_and_checks_ok(tmp_path):
    text = SAMPLE.read_text()
    names = re.findall(r"^([a-z_]+) ", text, re.M)
    help_text = run("-h").stdout
    flags = {f.replace("-", "_") for f in re.findall(r"^  --([a-z-]+) ", help_text, re.M)}
    flags -= {"config"}
    assert set(names) == flags, (set(names) ^ flags)
    # Every setting line is preceded by a comment explaining it.
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if re.match(r"^[a-z_]+ ", l):
            j = i - 1
            while j >= 0 and re.match(r"^[a-z_]+ ", lines[j]):
                j -= 1
            assert lines[j].startswith("#"), l
    # The sample as installed checks OK (with this checkout's rules and a writable db).
    p = run("-n", "--config", SAMPLE, "--rules", RULES, "--web", ROOT / "web")
    assert p.returncode == 0 and p.stdout.strip() == "configuration OK", p.stderr
    assert f"settings read from {SAMPLE}" in p.stderr
