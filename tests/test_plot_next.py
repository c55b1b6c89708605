"""Plots are real PNGs of the session; ``next`` follows the seed's build-up rules."""
import json


from host_tools import cli, export
from host_tools.history import Summary, load_history
from host_tools.next_cmd import suggest
from host_tools.session_model import Session
from swcore import plan as planmod

from sessions import default_session, short_session

DAY = 86400
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def save(folder, name, header, events):
    path = folder / ("%s.json" % name)
    path.write_bytes(export.export_bytes(header, events, "json"))
    return path


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_session_writes_a_png(tmp_path):
    header, events = default_session(tmp_path, holds="1900:1500,1960:1500")
    src = save(tmp_path, "s", header, events)
    assert cli.main(["plot", str(src), "--out", str(tmp_path / "s.png")]) == 0
    w, h = png_size(tmp_path / "s.png")
    assert w > 600 and h > 600


def test_plot_button_only_session_and_missing_session(tmp_path, capsys):
    from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim
    run_sim(tmp_path / "sim", presses=presses_from_args(DEMO_TAPS, "", ""), runtime="cpython")
    assert cli.main(["plot", str(tmp_path / "sim"), "--out", str(tmp_path / "b.png")]) == 0
    png_size(tmp_path / "b.png")
    assert cli.main(["plot", str(tmp_path / "nope"), "--out", str(tmp_path / "c.png")]) == 1
    assert "no session" in capsys.readouterr().err


def test_progress_plot_orders_sessions_by_date(tmp_path):
    hist = tmp_path / "history"
    hist.mkdir()
    for i, reps in enumerate((2, 3, 3, 4)):
        h, e = short_session(tmp_path / str(i), reps, 1790000000 + (4 - i) * DAY, seed=i)
        save(hist, "s%d" % (9 - i), h, e)   # names sort the other way round from dates
    sessions, warnings = load_history([hist])
    assert not warnings
    assert [Summary(s).planned for s in sessions] == [4, 3, 3, 2]
    assert cli.main(["plot", "--progress", "--sessions", str(hist), "--out", str(tmp_path / "p.png")]) == 0
    png_size(tmp_path / "p.png")


def summary_of(tmp_path, reps, **kw):
    return Summary(Session(*short_session(tmp_path / ("r%d-%s" % (reps, len(kw))), reps, 1790000000, **kw)))


def test_next_starts_with_fewer_reps_than_the_plan():
    reps, why = suggest([], 6)
    assert reps < 6 and "start with fewer" in why


def test_next_adds_one_after_a_complete_steady_session(tmp_path):
    last = summary_of(tmp_path, 3)
    assert last.all_completed and last.steady
    assert suggest([last], 6)[0] == 4


def test_next_never_goes_above_the_maximum(tmp_path):
    last = summary_of(tmp_path, 4)
    assert suggest([last], 4)[0] == 4
    assert suggest([last], 3)[0] == 3


def test_next_holds_when_a_later_rep_lost_its_cadence(tmp_path):
    last = summary_of(tmp_path, 3, rep_spm={3: (150, 160)})   # the last rep fell apart
    assert last.all_completed and not last.steady
    reps, why = suggest([last], 6)
    assert reps == 3 and "cadence of rep 3 fell" in why


def test_next_repeats_what_was_completed_after_a_skip_or_an_early_stop(tmp_path):
    skipped = summary_of(tmp_path, 4, skip_rep=2)
    assert skipped.skipped == 1
    assert suggest([skipped], 6)[0] == 3
    stopped = summary_of(tmp_path, 4, last_rep=2)
    assert not stopped.finished
    assert suggest([stopped], 6)[0] == 2


def test_next_cli_writes_a_plan_the_device_accepts(tmp_path, capsys):
    hist = tmp_path / "history"
    hist.mkdir()
    save(hist, "a", *short_session(tmp_path / "a", 3, 1790000000))
    out = tmp_path / "next.json"
    # three days after the session (1790000000 is 2026-09-21): rested, so it may grow
    assert cli.main(["next", "--sessions", str(hist), "--write", str(out), "--today", "2026-09-24"]) == 0
    assert "next session: 4 sprints" in capsys.readouterr().out
    _name, steps = planmod.parse(out.read_text())
    assert sum(1 for s in steps if s["kind"] == "sprint") == 4
    assert json.loads(out.read_text())["name"] == "Descending Sprints"
