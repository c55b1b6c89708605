"""Cue patterns drive buzzer and motor together, never overlap, and keep their length."""
from swcore import cues
from swcore.cues import CuePlayer, segments


class _Output:
    def __init__(self):
        self.log = []

    def apply(self, t, tone, motor):
        self.log.append((t, tone, motor))


def _play(names_at, until, step=10):
    out = _Output()
    p = CuePlayer(out)
    for name, t in names_at:
        p.play(name, t)
    t = 0
    while t <= until:
        p.service(t)
        t += step
    return out.log


def test_every_engine_cue_has_a_pattern_that_buzzes_and_vibrates():
    for name in ("step_start", "countdown", "sprint_go", "sprint_end", "recovery_ready",
                 "recovery_over", "session_done", "error"):
        pattern = segments(name)
        assert any(seg[1] > 0 for seg in pattern), name
        assert any(seg[2] for seg in pattern), name


def test_a_pattern_plays_its_segments_at_absolute_times_and_ends_silent():
    log = _play([("sprint_go", 1000)], 3000, step=7)
    assert log == [(1000, segments("sprint_go")[0][1], 1), (1600, 0, 0)]


def test_two_cues_at_once_play_one_after_the_other():
    log = _play([("sprint_end", 1000), ("step_start", 1000)], 5000)
    end_first = 1000 + cues.duration("sprint_end")
    starts_second = [t for t, tone, m in log if t >= end_first and tone]
    assert starts_second[0] == end_first
    # never two patterns at once: output changes strictly in time order
    times = [t for t, _, _ in log]
    assert times == sorted(times)
    assert log[-1][1:] == (0, 0)
    assert log[-1][0] == end_first + cues.duration("step_start")


def test_unknown_cue_plays_the_error_pattern():
    log = _play([("no-such-cue", 0)], 3000)
    assert log[0][1:] == segments("error")[0][1:]
