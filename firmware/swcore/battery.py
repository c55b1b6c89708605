"""Battery level from its voltage: a single-cell LiPo's charge, and when it is low.

Pure (no hardware): the board layer measures the cell (``swrt.mp.BatterySense``) and
the runner logs and cues what this module makes of it. The curve is a typical
single-cell LiPo at a light load (a few tens of mA), resting voltage against charge:
good to about 10 points, which is all a "charge it before the session" cue needs.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

LOW_PCT = const(15)          # at or below: the low-battery cue before the session
EXTERNAL_MV = const(4400)    # above a full cell: on USB or charging (VSYS ~ 4.7-5 V)
NO_CELL_MV = const(2500)     # below any LiPo's cut-off: no cell measured (none fitted, bad pin)

_CURVE = ((4200, 100), (4100, 90), (4000, 78), (3900, 64), (3800, 48), (3700, 30),
          (3600, 15), (3500, 7), (3300, 0))


def percent(mv):
    """Charge in % (0..100) of a LiPo cell at ``mv`` millivolts."""
    if mv >= _CURVE[0][0]:
        return 100
    for i in range(1, len(_CURVE)):
        v, p = _CURVE[i]
        if mv >= v:
            v0, p0 = _CURVE[i - 1]
            return p + (p0 - p) * (mv - v) // (v0 - v)
    return 0


def record(mv):
    """The session log's ``battery`` record fields for a reading of ``mv``."""
    if mv < NO_CELL_MV:
        return {"battery_mv": mv, "no_cell": True}
    fields = {"battery_mv": mv, "battery_pct": percent(mv)}
    if mv >= EXTERNAL_MV:
        fields["external"] = True      # on USB: the cell's charge is not known
    return fields


def level(mv):
    """The Battery Service's level (%), or None when no cell was measured."""
    return None if mv is None or mv < NO_CELL_MV else percent(mv)


def is_low(mv):
    return NO_CELL_MV <= mv < EXTERNAL_MV and percent(mv) <= LOW_PCT
