"""Button gestures: a bouncing switch still gives exactly one tap, double or long press."""
from swcore.gestures import Gestures, TAP, DOUBLE, LONG, NONE


def _feed(edges, until, step=5):
    """Feed (t, pressed) edges, polling every ``step`` ms; return [(gesture, time)]."""
    g = Gestures()
    out = []
    i = 0
    t = 0
    while t <= until:
        while i < len(edges) and edges[i][0] <= t:
            g.edge(edges[i][1], edges[i][0])
            i += 1
        got = g.poll(t)
        if got != NONE:
            out.append((got, g.gesture_t))
        t += step
    return out


def _bouncy_press(t, hold):
    return [(t, True), (t + 2, False), (t + 4, True), (t + hold, False), (t + hold + 3, True), (t + hold + 6, False)]


def test_a_bouncing_tap_is_one_tap_timed_at_the_press():
    assert _feed(_bouncy_press(1000, 120), 3000) == [(TAP, 1000)]


def test_two_quick_presses_are_one_double():
    edges = _bouncy_press(1000, 100) + _bouncy_press(1250, 100)
    assert _feed(edges, 3000) == [(DOUBLE, 1000)]


def test_two_slow_presses_are_two_taps():
    edges = _bouncy_press(1000, 100) + _bouncy_press(1800, 100)
    assert _feed(edges, 4000) == [(TAP, 1000), (TAP, 1800)]


def test_a_long_hold_fires_once_while_still_held():
    edges = _bouncy_press(1000, 2500)
    got = _feed(edges, 5000)
    assert got == [(LONG, 2000)]


def test_a_glitch_shorter_than_the_debounce_is_ignored():
    assert _feed([(1000, True), (1010, False)], 3000) == []


def test_settled_until_holds_the_engine_at_the_press_until_the_gesture_is_known():
    g = Gestures()
    g.edge(True, 1000)
    g.poll(1030)
    assert g.settled_until(1030) == 1000
    g.edge(False, 1100)
    g.poll(1130)
    assert g.settled_until(1200) == 1000      # could still become a double
    assert g.poll(1400) == TAP
    assert g.settled_until(1400) == 1400
