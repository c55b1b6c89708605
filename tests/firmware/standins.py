"""Stand-ins for what an App is given besides its plan: a board output that plays nothing
and a motion pipeline that never sees a step (tests script reps and magnitudes themselves)."""


class SilentOutput:
    def apply(self, t, tone, motor):
        pass


class StillMotion:
    rate = 50
    lag = 0
    mag = 1000
    cadence_spm = 0

    def feed(self, ax, ay, az):
        return 0

    def arm(self, floor=0):
        pass

    def disarm(self):
        pass

    def rep_metrics(self):
        return {}
