"""The screen layout over the real ST7789 driver: what a passing second redraws, and that
the per-second path allocates nothing (micropython.heap_lock on the unix port)."""
from fake_panel import Panel
from screen_scenes import make, _until
from swcore.screen import GO_MS


def _digits_area(screen):
    lay = screen.lay
    return lay.digit_w * lay.digit_h


def test_a_passing_second_redraws_only_the_digits_that_changed():
    for board in ("clue", "m5stickc-plus2"):
        panel, screen, app = make(board)
        app.start(0)
        _until(app, 0, 12500)                       # Easy Jog, 9:48 left
        before = panel.pixels
        app.service(13000)                          # 9:47: one digit
        one = panel.pixels - before
        assert 0 < one <= _digits_area(screen), board
        before = panel.pixels
        app.service(13500)                          # the same second: nothing
        assert panel.pixels == before
        _until(app, 13000, 40000)
        before = panel.pixels
        app.service(41000)                          # 9:20 -> 9:19: two digits
        two = panel.pixels - before
        assert one < two <= 2 * _digits_area(screen) < panel.w * panel.h // 4, board


def test_the_digits_count_what_the_step_is_about():
    panel, screen, app = make("clue")
    e = app.engine
    app.start(0)
    _until(app, 0, 1000)
    assert screen.shown_secs == 599                 # time left in a timed step
    _until(app, 1000, 905000)
    assert screen.shown_secs == 5                   # elapsed in Sprint Setup
    e.gesture("tap", 905000)
    e.gesture("tap", 910000)
    assert screen.go_until == 910000 + GO_MS
    green = panel.pixel(0, 0)
    _until(app, 905000, 911000)
    assert panel.pixel(0, 0) == green == 0x07E0     # GO fills the screen ...
    _until(app, 911000, 917000)
    assert panel.pixel(0, 0) == 0 and screen.shown_secs == 7   # ... then the run's time


def test_the_per_second_path_allocates_nothing():
    try:
        import micropython
        micropython.heap_lock
    except (ImportError, AttributeError):
        return                                      # CPython: nothing to lock
    for board in ("clue", "m5stickc-plus2"):
        panel, screen, app = make(board)
        e = app.engine
        app.start(0)
        _until(app, 0, 2000)
        t = 2000
        micropython.heap_lock()
        try:
            while t < 130000:                       # two minutes of Easy Jog, minute digits too
                screen.tick(t, e)
                t += 10
        finally:
            micropython.heap_unlock()
        assert screen.shown_secs == 600 - 130 + 1


def test_a_runner_that_sleeps_between_deadlines_wakes_for_the_next_second_on_screen():
    panel, screen, app = make("clue")
    e = app.engine
    app.start(0)
    _until(app, 0, 12300)                          # Easy Jog: 587.7 s left, shown 9:48
    assert screen.next_due(12300, e) == 13000      # 9:47 from 13.000 s
    assert app.next_due(12300) <= 13000
    _until(app, 12300, 905000)                     # Sprint Setup counts up from 900 s
    assert screen.next_due(905300, e) == 906000
    e.gesture("tap", 905400)                       # sprint armed: nothing moves on screen
    app.service(905400)
    assert screen.next_due(905500, e) == -1
    e.gesture("long", 905600)                      # paused: the digits stay
    assert e.paused and screen.next_due(905700, e) == -1
