"""Reads the start of a real trace from ../shared/traces (beside the repository)."""


def traces_dir():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/../../../shared/traces"


def load(name, limit):
    """First ``limit`` samples of trace ``name`` as a list of (ax, ay, az) milli-g."""
    rows = []
    with open(traces_dir() + "/" + name) as f:
        f.readline()
        while len(rows) < limit:
            line = f.readline()
            if not line:
                break
            p = line.strip().split(",")
            if len(p) == 4:
                rows.append((int(p[1]), int(p[2]), int(p[3])))
    return rows
