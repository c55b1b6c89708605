"""The app between runtime and core: once-a-second sprint summaries for the log and plots."""
from expect import Collector
from app import App
from swcore import plan
from standins import SilentOutput, StillMotion


class _Board:
    output = SilentOutput()
    display = None


class _Motion(StillMotion):
    """Stands in for the pipeline: a magnitude and a cadence the test sets."""

    def __init__(self):
        self.mag = 1000
        self.cadence_spm = 0

    def feed(self, ax, ay, az):
        self.mag = ax
        return 0


def test_a_sprint_logs_cadence_and_peak_g_once_a_second_and_only_while_it_runs():
    doc = {"name": "T", "sets": [{"name": "S", "steps": [{"name": "Go", "kind": "sprint", "max_s": 3.5},
                                                        {"name": "Rest", "kind": "timed", "duration_s": 5}]}]}
    _, steps = plan.parse(doc)
    sink = Collector()
    motion = _Motion()
    app = App(_Board(), "T", steps, [sink], motion)
    app.start(0)
    for t in range(0, 12000, 20):
        if t in (1000, 1100):
            app.button(t == 1000, t)                          # a tap at 1 s: go
        motion.cadence_spm = 170 if t > 1500 else 0
        app.sample(1000 + (t // 20) % 50 * 60, 0, 0, t)    # a peak of 3940 mg each second
        app.service(t)
    ticks = sink.of("sprint_tick")
    assert [t for t, _, _ in ticks] == [2000, 3000, 4000]          # go at 1000, end at 4500
    assert [f["cadence_spm"] for _, _, f in ticks] == [170, 170, 170]
    assert [f["peak_g"] for _, _, f in ticks] == [3.94, 3.94, 3.94]
