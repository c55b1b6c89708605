"""Reads the start of a real trace from ../shared/traces (beside the repository).

Without the recordings (a clone on its own), a synthetic run of the same shape
stands in: a stride every 0.7 s with impacts up to about 6 g on a tilted axis set,
so the driver tests still exercise real-sized values.
"""


def traces_dir():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/../../../shared/traces"


def _synthetic(limit):
    rows = []
    for k in range(limit):
        phase = k % 35                          # 50 Hz samples: a stride every 0.7 s
        impact = 5200 - 700 * phase if phase < 8 else 0
        wobble = (k * 37) % 300 - 150
        rows.append((300 + wobble + impact // 3, -200 - wobble // 2, 980 + impact))
    return rows


def load(name, limit):
    """First ``limit`` samples of trace ``name`` as a list of (ax, ay, az) milli-g."""
    rows = []
    try:
        f = open(traces_dir() + "/" + name)
    except OSError:
        return _synthetic(limit)
    with f:
        f.readline()
        while len(rows) < limit:
            line = f.readline()
            if not line:
                break
            p = line.strip().split(",")
            if len(p) == 4:
                rows.append((int(p[1]), int(p[2]), int(p[3])))
    return rows
