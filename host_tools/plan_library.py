"""The built-in plan library: the seed session and the beginner path towards it.

The seed (``../shared/seed/descending-sprints.txt``) is for intermediate and advanced
runners; for beginners and people prone to joint issues it names two alternatives,
"fast walking down a slope" and a "gradual build-up to quicker descents over shorter
distances". Those are the path's first two stages; the third is the session itself
(the device's built-in one, ``swcore.default_plan``, the only copy of it). Each entry
carries the seed's warnings, shown by ``sprintwatch plan list`` / ``plan show NAME``.
The device gets one of them with ``sprintwatch flash --plan NAME``; plans are only
data, so the library stays on the laptop.
"""
import copy
import json

from host_tools import firmware  # noqa: F401  (puts the firmware on sys.path)
from swcore.default_plan import DEFAULT_PLAN

# The seed's words, shortened; every entry shows the ones that apply to it.
WARN_LEVEL = ("Designed for intermediate to advanced runners with a good base of fitness and hill "
              "experience. Not recommended for beginners: downhill running raises the risk of injury.")
WARN_BEGINNERS = ("Beginners and those prone to joint issues: build strength and stability first, "
                  "with the beginner path (fast walking down a slope, then short descents).")
WARN_FORM = ("Body slightly forward, short steps to reduce impact, core engaged, controlled breathing.")
WARN_SURFACE = "A safe downhill surface: no loose gravel or debris that could cause slips."
WARN_WARMUP = "Warm up thoroughly before the first descent."
WARN_VOLUME = ("Keep the volume low until you are confident in your form; build speed and distance "
               "gradually (sprintwatch next adds at most one rep a session).")

_WARM_UP = {
    "name": "Warm-Up Set",
    "note": "Prepare your muscles and joints for the descents.",
    "steps": [
        {"name": "Easy Walk or Jog", "kind": "timed", "duration_s": 600,
         "note": "10 minutes of easy walking or jogging on flat ground to raise your heart rate."},
        {"name": "Dynamic Stretches", "kind": "timed", "duration_s": 300,
         "note": "Leg swings, arm circles and high knees for 5 minutes."},
    ],
}
_COOL_DOWN = {
    "name": "Cool-Down Set",
    "note": "Help your body recover and reduce the risk of injury.",
    "steps": [
        {"name": "Easy Walk", "kind": "timed", "duration_s": 600,
         "note": "10 minutes of walking to cool down gradually."},
        {"name": "Static Stretching", "kind": "timed", "duration_s": 300,
         "note": "Stretch your quads, hamstrings, calves and glutes for 5 minutes."},
    ],
}

BEGINNER_WALK = {
    "name": "Downhill Fast Walk",
    "level": "beginner",
    "note": "Beginner path, stage 1: fast walking down a gentle slope. " + WARN_FORM,
    "sets": [
        _WARM_UP,
        {"name": "Fast Walk Descents",
         "note": "Walk briskly down a gentle slope, then walk back up at ease.",
         "steps": [
             {"name": "Find a Gentle Slope", "kind": "open",
              "note": "A smooth, gentle downhill of about 3-5%, 50-80 meters long. Tap when there."},
             {"repeat": 4, "steps": [
                 {"name": "Fast Walk Down", "kind": "timed", "duration_s": 45, "effort_pct": 50,
                  "note": "Brisk walk downhill: short steps, body slightly forward, no running."},
                 {"name": "Walk Back Up", "kind": "timed", "duration_s": 90,
                  "note": "Walk back up to the start at an easy pace."},
             ]},
         ]},
        _COOL_DOWN,
    ],
}

BEGINNER_SHORT = {
    "name": "Short Descents",
    "level": "beginner",
    "form_guard": True,
    "note": "Beginner path, stage 2: short, controlled descents on a gentle slope. " + WARN_FORM,
    "sets": [
        _WARM_UP,
        {"name": "Short Descents Set",
         "note": "Quicker descents over a short distance, in control.",
         "steps": [
             {"name": "Slope Setup", "kind": "open",
              "note": "A smooth downhill of about 3-5%, 50 meters long. Tap when there."},
             {"repeat": 4, "steps": [
                 {"name": "Short Descent", "kind": "sprint", "effort_pct": 60, "max_s": 20,
                  "note": "Run downhill at 60% of your maximal effort: short steps, stay in control."},
                 {"name": "Walk Back Recovery", "kind": "recovery", "min_s": 90, "max_s": 150,
                  "note": "Walk back up to the start (1.5-2.5 minutes)."},
             ]},
         ]},
        _COOL_DOWN,
    ],
}


def _full():
    doc = copy.deepcopy(DEFAULT_PLAN)
    doc.setdefault("level", "intermediate")
    return doc


# name -> (plan document, warnings, what comes next on the path or None)
ENTRIES = {
    "beginner-walk": (BEGINNER_WALK, (WARN_BEGINNERS, WARN_SURFACE, WARN_WARMUP, WARN_VOLUME), "beginner-short"),
    "beginner-short": (BEGINNER_SHORT, (WARN_BEGINNERS, WARN_FORM, WARN_SURFACE, WARN_WARMUP, WARN_VOLUME),
                       "descending-sprints"),
    "descending-sprints": (_full(), (WARN_LEVEL, WARN_BEGINNERS, WARN_FORM, WARN_SURFACE, WARN_WARMUP,
                                     WARN_VOLUME), None),
}
PATH = ("beginner-walk", "beginner-short", "descending-sprints")   # the beginner path, in order


def names():
    return list(ENTRIES)


def get(name):
    """The plan document of library entry ``name`` (a fresh copy); KeyError when unknown."""
    return copy.deepcopy(ENTRIES[name][0])


def warnings(name):
    return ENTRIES[name][1]


def next_stage(name):
    return ENTRIES[name][2]


def by_plan_name(plan_name):
    """The library entry whose plan is called ``plan_name`` (as logs record it), or None."""
    for key, (doc, _w, _n) in ENTRIES.items():
        if doc["name"] == plan_name:
            return key
    return None


def text(name):
    """The plan as the JSON text the device reads."""
    return json.dumps(get(name), indent=1) + "\n"
