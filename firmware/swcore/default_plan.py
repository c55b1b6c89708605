"""The built-in session: "Descending Sprints: Negative Gradient Running".

Written from the seed session text (step names and notes as given there). It runs
when the board has no plan file, and whenever the plan file is rejected.
"""

DEFAULT_PLAN = {
    "name": "Descending Sprints",
    "level": "intermediate",
    "note": "Short, fast downhill sprints for strength and technique on a negative gradient.",
    "sets": [
        {
            "name": "Warm-Up Set",
            "note": "Prepare your muscles and joints for the downhill sprints.",
            "steps": [
                {"name": "Easy Jog", "kind": "timed", "duration_s": 600,
                 "note": "Start with a 10-minute easy jog on flat terrain to gradually increase your heart rate."},
                {"name": "Dynamic Stretches", "kind": "timed", "duration_s": 300,
                 "note": "Perform leg swings, arm circles, and high knees for 5 minutes to loosen up your body."},
            ],
        },
        {
            "name": "Descending Sprints Set",
            "note": "Focus on fast, controlled downhill running to improve your descending technique.",
            "steps": [
                {"name": "Sprint Setup", "kind": "open", "measure": "slope",
                 "note": "Find a downhill gradient of about 5-10% that is approximately 100-150 meters long."},
                {"repeat": 6, "steps": [
                    {"name": "Sprint", "kind": "sprint", "effort_pct": 80, "max_s": 45,
                     "cadence_floor_spm": 150,
                     "note": "Run downhill at 80% of your maximal effort, focusing on control and form."},
                    {"name": "Walk Back Recovery", "kind": "recovery", "min_s": 120, "max_s": 180,
                     "note": "Walk or slowly jog back uphill to the start as recovery (approximately 2-3 minutes)."},
                ]},
            ],
        },
        {
            "name": "Cool-Down Set",
            "note": "Help your body recover and reduce the risk of injury.",
            "steps": [
                {"name": "Easy Jog or Walk", "kind": "timed", "duration_s": 600,
                 "note": "Spend 10 minutes jogging or walking to cool down your body gradually."},
                {"name": "Static Stretching", "kind": "timed", "duration_s": 300,
                 "note": "Focus on stretching your quads, hamstrings, calves, and glutes for 5 minutes."},
            ],
        },
    ],
}
