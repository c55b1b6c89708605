"""The issue-15 repros a new user hit, end to end through the CLI and the MicroPython
simulator (the others are unit tests beside the code they test: tests/firmware/
test_plan.py, test_logformat.py, test_logstore.py, test_runtime.py, tests/
test_boot_memory.py, test_export_total.py, test_ble_sync.py, test_bad_input_cli.py)."""
import json
import sys
from pathlib import Path

from host_tools import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "firmware"))
from swcore.logformat import read_session   # noqa: E402

EMOJI_PLAN = {"name": "Hill \U0001F3C3", "sets": [{"name": "Hills \U0001F3C3", "steps": [
    {"name": "Easy \U0001F3C3", "kind": "timed", "duration_s": 2},
    {"repeat": 2, "steps": [{"name": "Sprint \U0001F3C3", "kind": "sprint", "max_s": 3},
                            {"name": "Walk", "kind": "recovery", "min_s": 1, "max_s": 2}]}]}]}


def test_an_emoji_in_the_plan_name_survives_next_write_and_the_device(tmp_path, capsys):
    plan = tmp_path / "hill.json"
    plan.write_text(json.dumps(EMOJI_PLAN, ensure_ascii=False), encoding="utf-8")
    taps = ["--taps", "3,7,11"]
    assert cli.main(["sim", "--plan", str(plan), "--out", str(tmp_path / "a")] + taps) == 0
    nxt = tmp_path / "next.json"
    assert cli.main(["next", "--sessions", str(tmp_path / "a"), "--plan", str(plan), "--write", str(nxt)]) == 0
    assert "\\ud83c\\udfc3" in nxt.read_text()         # json.dumps: a surrogate-pair escape
    assert cli.main(["sim", "--plan", str(nxt), "--out", str(tmp_path / "b")] + taps) == 0   # MicroPython
    capsys.readouterr()
    log = tmp_path / "b" / "session-0001.swlog"
    assert cli.main(["log", "show", str(log)]) == 0
    shown = capsys.readouterr().out
    assert "Hill \U0001F3C3" in shown
    header, records, problems = read_session(log.read_bytes())
    assert header["plan"] == "Hill \U0001F3C3" and not header.get("builtin") and problems == []
    assert [r[2]["step"] for r in records if r[1] == "step_start"][0] == "Easy \U0001F3C3"
    planned = [b for b in json.loads(nxt.read_text())["sets"][0]["steps"] if "repeat" in b][0]["repeat"]
    assert len([r for r in records if r[1] == "rep"]) == planned     # (as many as `next` chose)
