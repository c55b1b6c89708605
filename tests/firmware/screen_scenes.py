"""Screens worth a glance, reached the way a session reaches them: the real app, engine,
screen layout and ST7789 driver, drawing onto a fake panel (fake_panel.Panel).

``scenes(board)`` yields ``(name, panel)`` at each moment of the default session the
golden frames show; both runtimes draw the same pixels (tests/test_screen_golden.py).
"""
from app import App
from drivers.st7789 import ST7789
from fake_panel import Panel, no_delay
from swcore import plan
from swcore.default_plan import DEFAULT_PLAN
from swcore.screen import Screen
from standins import SilentOutput, StillMotion

# (width, height, x_offset, y_offset, rotation) as in boards/*.json
BOARDS = {"clue": (240, 240, 0, 80, 0), "m5stickc-plus2": (135, 240, 52, 40, 1)}
SCENES = ("warmup", "setup", "go", "recovery", "sprint", "offer")


class _Board:
    def __init__(self, display):
        self.output = SilentOutput()
        self.display = display


def make(board):
    w, h, x0, y0, rot = BOARDS[board]
    panel = Panel(h if rot & 1 else w, w if rot & 1 else h, y0 if rot & 1 else x0, x0 if rot & 1 else y0)
    driver = ST7789(panel, panel.cs, panel.dc, None, None, w, h, x0, y0, rot, delay_ms=no_delay)
    screen = Screen(driver)
    _, steps = plan.parse(DEFAULT_PLAN)
    app = App(_Board(screen), "Descending Sprints", steps, [], StillMotion())
    return panel, screen, app


def _until(app, t0, t1):
    t = t0
    while t <= t1:
        app.service(t)
        t += 100
    app.service(t1)
    return t1


def scenes(board):
    panel, screen, app = make(board)
    e = app.engine
    screen.battery(80)
    app.start(0)
    t = _until(app, 0, 125400)                     # Easy Jog, 7:55 left
    yield "warmup", panel
    t = _until(app, t, 905000)                     # Sprint Setup, 0:05 in, slope measured
    screen.slope(7.4, "ok")
    yield "setup", panel
    e.gesture("tap", 905000)                       # setup done: sprint 1 armed
    e.gesture("tap", 910000)                       # go
    t = _until(app, 905000, 910500)
    yield "go", panel
    e.motion_start(910800)
    e.motion_stop(925000, {"cadence_spm": 172, "steps": 41, "peak_g": 4.6, "moving_ms": 14200})
    t = _until(app, 910500, 955000)                # walking back, ready in 1:30
    yield "recovery", panel
    t = _until(app, t, 1050000)
    e.gesture("tap", 1050000)                      # ready: go on rep 2
    t = _until(app, 1050000, 1058400)              # running 0:08
    yield "sprint", panel
    e.motion_start(1050700)
    e.motion_stop(1066000, {"cadence_spm": 155, "steps": 38, "peak_g": 5.1, "moving_ms": 15100})
    e.offer_end_set()                              # as the guard does after two drops in a row
    t = _until(app, 1066000, 1086000)
    yield "offer", panel
