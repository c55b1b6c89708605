"""Motion pipeline: steps, activity (still / walk / run) and run bouts from raw acceleration.

Fed one sample at a time (milli-g, any orientation: only the magnitude is used) at
the board's sensor rate. ``feed`` allocates nothing: all state is small ints and
preallocated buffers, so it can run in a sensor IRQ/task under ``heap_lock``.

How it works, per sample:
1. magnitude |a| by integer Newton square root seeded with the previous value;
2. band-pass: minus a centred moving average (gravity, sensor offset, the arm's
   once-per-stride swing), then a short moving average against jitter; two of them over
   the same samples, centred alike: 0.8 s / 160 ms while walking (longer than a walking
   step, so a pocket's double bump is one swing), 0.5 s / 80 ms once the rhythm is quick
   and lands harder than the walk (sprints up to 240 steps/min);
3. a step is the highest point of a swing above a threshold that adapts to the
   recent swings, at least a refractory time after the previous step;
4. steps count only in a regular sequence (_CONFIRM_STEPS in a row with intervals
   alike), which rejects driving, typing and housework jolts;
5. a *bout* (a run, e.g. a sprint rep) starts when _RUN_STEPS intervals in a row are
   at running cadence and ends at the last running step before a gap or a few slow
   steps. Events are reported late by nature; ``lag`` says how many samples ago
   the event really happened.
"""
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# Event codes returned by feed().
NONE = const(0)
MOVE_START = const(1)   # a run bout began (lag: samples since its first step)
MOVE_STOP = const(2)    # the bout ended (lag: samples since its last running step)
CADENCE_LOW = const(3)  # armed, running, cadence below the floor for a while

# Activity states.
STILL = const(0)
WALK = const(1)
RUN = const(2)
JOG = const(3)      # still running, but a rep eased off below its own level: no new rep until a walk or stop
STATE_NAMES = ("still", "walk", "run", "jog")

_MAX_MG = const(16000)           # clamp: keeps every product a small int on 32-bit ports
_THRESHOLD_MIN_MG = const(75)     # smallest swing that can be a step ...
_SOFT_SWING_MG = const(100)       # ... and below this, a rhythm needs _SOFT_CONFIRM_STEPS to count
_SOFT_CONFIRM_STEPS = const(6)
_THRESHOLD_PCT = const(20)        # threshold: this share of the recent swing height
TRACK_PCT = 40                    # in a rhythm, a swing this share of the recent ones is a step even
                                  # below _THRESHOLD_MIN_MG (soft steps: in hand on carpet)
_MIN_INTERVAL_MS = const(240)     # no two steps closer than this while walking ...
_MIN_RUN_INTERVAL_MS = const(190)  # ... or while running (240 steps/min, left and right unalike at the hip)
_MAX_INTERVAL_MS = const(1300)    # slower than this is not walking
_REFRACTORY_PCT = const(35)      # no second step within this share of the last interval
STRIDE_MS = 950                 # a steady rhythm this slow is one foot's strides (slow walkers step
                                # at 0.7-0.9 s; a wrist showing strides at 1.0-1.1 s)
_MIN_STRIDE_MS = const(700)       # a rhythm twice a walk's steps is strides from this slow up ...
_STRIDE_MATCH_PCT = const(15)     # ... within this much of twice the step interval
_STEP_MAX_MS = const(600)         # a rhythm this quick or quicker is steps (not strides) when it lasts
_CONFIRM_STEPS = const(4)         # steps in a row before any counts
_ALT_STEPS = const(4)             # intervals alternately long and short before a stride may stand for them
_WALK_LEARN_STEPS = const(8)      # regular walking steps before they teach how walking lands
_QUICK_SPM = const(125)          # a run starts with the first of an unbroken line of steps this quick
_QUICK_FILTER_SPM = const(140)  # the short band-pass from this rhythm up ...
_QUICK_FILTER_OVER_WALK_PCT = const(125)  # ... with swings this much above the walking ones here
SOFT_BUMP_PCT = 60              # a bump softer than that within this share of a walking step is the same step
_STRIDES_FIRST = const(8)         # at most this many strides before a run's rhythm shows
_RUN_STEPS = const(4)             # running intervals in a row that start a bout
_SLOW_STEPS = const(3)            # slow or easing intervals in a row that end a bout
_REP_MIN_STEPS = const(16)        # a run is reported once it lasts this many steps (a rattle does not)
_SETTLE_STEPS = const(16)         # a run's first steps set its own level (no easing judged against it)
_FINE_STEP_SAMPLES = const(10)    # a step this many samples long or more shows its swing's true height
_CONTACT_MG = const(1000)         # above 1 g: the body is being held up (ground contact), below: flight

# The run classifier (see docs/motion.md): all three must hold, over the recent steps.
# Constants without a leading underscore are copied into a lowercase attribute of each pipeline
# (STRIDE_MS: stride_iv, in samples), which the benchmark's leave-one-person-out search
# overrides (host_tools.analyze.tuned_pipeline).
RUN_SPM = 145           # cadence: walking stays below, the slowest jog above
RUN_HEIGHT_MG = 800     # mean swing of the gravity-removed magnitude: a run lands at least this hard ...
RUN_OVER_WALK_PCT = 150  # ... and this much harder than the walking steps seen at the same placement
EASE_CAD_PCT = 88       # a rep ends when its stride cadence falls below this share of the rep's own ...
EASE_EFFORT_PCT = 75    # ... or its effort (stride cadence x swing) below this share (a walk-off or a
                        # jog-off), or its cadence to a walking one
REGULAR_PCT = 45        # steps: consecutive intervals differ by at most this much
_STOP_GAP_MS = const(1200)        # no step for this long: stopped
_FORGET_WALK_MS = const(5000)     # standing this long forgets how the walk before it landed
_LOW_STEPS = const(6)             # steps below the floor before the nudge

_BASE_MS = const(500)             # high-pass window while the rhythm is quick (running) ...
_WALK_BASE_MS = const(800)        # ... and otherwise: longer than a walking step, so it keeps it whole
_SMOOTH_MS = const(80)            # jitter filter while running ...
_WALK_SMOOTH_MS = const(160)      # ... and walking (a pocket's double bump per step is one swing)


class MotionPipeline:
    def __init__(self, rate_hz):
        rate = int(rate_hz)
        if rate < 10 or rate > 400:
            raise ValueError("motion: sensor rate %s Hz is outside 10..400" % rate_hz)
        self.rate = rate
        self.regular_pct = REGULAR_PCT
        self.run_spm = RUN_SPM
        self.run_height_mg = RUN_HEIGHT_MG
        self.run_over_walk_pct = RUN_OVER_WALK_PCT
        self.ease_cad_pct = EASE_CAD_PCT
        self.ease_effort_pct = EASE_EFFORT_PCT
        self.track_pct = TRACK_PCT
        self.soft_bump_pct = SOFT_BUMP_PCT
        # Two band-passes over the same samples, centred alike (so a step is at the same place in
        # both): the long one while walking, the short one once the rhythm is quick.
        self.base_n = rate * _WALK_BASE_MS // 1000        # gravity/offset/stride average (walking)
        self.base = array("h", [0] * self.base_n)
        self.half = self.base_n // 2
        self.qbase_n = rate * _BASE_MS // 1000            # the same, running, inside the same ring
        self.qin = self.qbase_n // 2 - self.half          # offsets from the newest sample (<= 0)
        self.qout = self.qin - self.qbase_n
        self.smooth_n = max(1, (rate * _WALK_SMOOTH_MS + 500) // 1000)
        self.smooth = array("h", [0] * self.smooth_n)
        self.qsmooth_n = max(1, (rate * _SMOOTH_MS + 500) // 1000)
        self.qsmooth = array("h", [0] * self.smooth_n)
        self.qs_in = -((self.smooth_n - self.qsmooth_n) // 2)   # offsets from the newest (<= 0)
        self.qs_out = self.qs_in - self.qsmooth_n
        self.delay = self.half + (self.smooth_n - 1) // 2  # filter delay, samples
        self.min_iv = rate * _MIN_INTERVAL_MS // 1000
        self.min_run_iv = (rate * _MIN_RUN_INTERVAL_MS + 999) // 1000
        self.max_iv = rate * _MAX_INTERVAL_MS // 1000
        self.gap = rate * _STOP_GAP_MS // 1000
        self.forget_n = rate * _FORGET_WALK_MS // 1000
        self.quick_iv = rate * 60 // _QUICK_SPM
        self.qf_iv16 = rate * 960 // _QUICK_FILTER_SPM
        self.stride_iv = rate * STRIDE_MS // 1000
        self.min_stride16 = rate * _MIN_STRIDE_MS * 16 // 1000
        self.step_max16 = rate * _STEP_MAX_MS * 16 // 1000
        self.cadence_floor = 0
        self.reset()

    def reset(self):
        for ring in (self.base, self.smooth, self.qsmooth):
            for i in range(len(ring)):
                ring[i] = 0
        self.n = 0            # samples fed
        self.mag = 1000       # last magnitude (Newton seed)
        self.bi = 0
        self.bsum = 0
        self.qbsum = 0
        self.bfill = 0
        self.si = 0
        self.ssum = 0
        self.qssum = 0
        self.quick_filter = False   # the short band-pass drives the step detector
        self.swing_q = 0     # the short band-pass's top within the swing (the classifier's height)
        self.in_swing = False
        self.swing_max = 0
        self.swing_at = 0
        self.swing_mag = 0    # highest raw magnitude since the last step (the landing's peak)
        self.height = 0       # recent swing height (filtered mg), for the adaptive threshold
        self.last_step = -1   # sample of the last candidate step
        self.last_iv = 0
        self.avg16 = 0        # typical interval of the current sequence, 1/16 samples
        self.seq = 0          # candidate steps in the current regular sequence
        self.need = _CONFIRM_STEPS  # steps in a row before they count (more for soft ones)
        self.seq_from = 0     # its first step
        self.steps = 0        # counted steps
        self.state = STILL
        self.state_since = 0  # sample the state really began
        self.quick = 0        # quick intervals in a row, regular or not
        self.quick_from = 0   # first step of those
        self.prev_seq = 0     # the regular sequence before the current one: its length, ...
        self.prev_avg16 = 0   # ... typical interval, ...
        self.prev_end = -1    # ... last step ...
        self.prev_hard = -1   # ... and the first of the hard landings it ended with (-1: none)
        self.prev_hard_n = 0
        self.hard = 0         # hard landings (a run's) in a line, up to this step
        self.hard_from = 0
        self.fast = 0         # running intervals in a row
        self.fast_from = 0    # first step of that streak
        self.fast_peak = 0    # highest magnitude within the streak
        self.prev_h = 0       # the previous step's swing height
        self.doubled = False  # the last interval was taken as two steps (one too weak to see)
        self.dbl_hist = 0     # which of the last four intervals of a run were such doubles (bits)
        self.prev_iv = 0      # the interval before the last one
        self.alt = 0          # intervals in a row alternately long and short
        self.alt_long = False  # the last of them was the long one
        self.iv2 = 0          # and the two before that
        self.iv3 = 0
        self.h_mean = 0       # mean swing height over the recent steps
        self.walk_h = 0       # typical swing of the walking steps (0: none seen yet)
        self.walk_iv = 0      # and their typical interval, samples
        self.step16 = 0       # this walk's step rhythm (1/16 samples; 0: none seen since the last stop)
        self.stopped_at = 0   # when the last stop was seen (sample)
        self.stride_spm = 0   # cadence over the last two strides (four steps)
        self.ref_spm = 0      # the bout's own running level: stride cadence ...
        self.ref_effort = 0   # ... and stride cadence x swing / 64
        self.ref_fade = 0     # steps below the level since it last came down
        self.contact_n = 0    # samples of the bout's steps above 1 g (ground-contact proxy)
        self.iv_contact = 0   # samples above 1 g since the last step
        self.slow = 0         # slow intervals in a row during a bout
        self.held_n = 0       # steps at the level among easing ones since the last solid one
        self.slow_contact = 0
        self.last_fast = 0    # last running step of the bout
        self.cadence_spm = 0  # from the typical interval
        # the current or last bout
        self.bout_start = 0
        self.bout_end = 0
        self.bout_steps = 0
        self.bout_peak_spm = 0
        self.bout_peak_mg = 0
        self.bouts = 0
        self.announced = False  # the current bout was reported (MOVE_START)
        self.armed = False
        self.arm_at = 0
        self.low = 0
        self.low_sent = False
        self.pending = NONE
        self.pending_lag = 0
        self.lag = 0          # samples between the event's real moment and now

    # ---- control (not per sample) -----------------------------------------
    def arm(self, cadence_floor_spm=0):
        """A sprint started (tap): the next bout is a rep; watch the cadence floor."""
        self.armed = True
        self.arm_at = self.n
        self.cadence_floor = int(cadence_floor_spm or 0)
        self.low = 0
        self.low_sent = False
        if self.state == RUN or self.state == JOG:   # already running at the tap: the rep starts now
            self.state = RUN
            self._start_bout(self.n)
            self.announced = True
            self.pending = MOVE_START
            self.pending_lag = 0

    def disarm(self):
        self.armed = False

    def rep_metrics(self):
        """The current (or last) bout's figures; allocates, so call it only at a rep's end."""
        end = self.bout_end if self.state != RUN else self.last_fast
        span = end - self.bout_start
        cadence = 0
        if self.bout_steps > 1 and span > 0:
            cadence = (self.bout_steps - 1) * 60 * self.rate // span
        contact = self.contact_n * 1000 // (self.rate * self.bout_steps) if self.bout_steps else 0
        return {"steps": self.bout_steps, "cadence_spm": cadence,
                "peak_cadence_spm": self.bout_peak_spm,
                "peak_g": round(self.bout_peak_mg / 1000, 2),
                "moving_ms": span * 1000 // self.rate,
                "contact_ms": contact}

    def activity(self):
        """The state as reported: a run not yet announced (MOVE_START), or one too short to be
        (a rattle), is still walking."""
        if self.state >= RUN and not self.announced:
            return WALK
        return self.state

    def state_name(self):
        return STATE_NAMES[self.activity()]

    # ---- the hot path ----------------------------------------------------------
    def feed(self, ax, ay, az):
        """One sample in milli-g; returns an event code (NONE most of the time)."""
        n = self.n + 1
        self.n = n
        # 1. magnitude: integer square root, Newton from the previous value
        s = ax * ax + ay * ay + az * az
        lim = _MAX_MG * _MAX_MG
        if s > lim:
            s = lim
        m = self.mag
        if s == 0:
            m = 0
        else:
            if m <= 0:
                m = 1000
            while True:
                m2 = (m + s // m) >> 1
                if m2 == m or m2 == m + 1 or m2 == m - 1:
                    m = m2
                    break
                m = m2
        self.mag = m
        # 2. band-pass: minus the centred mean, then a short mean (both band-passes)
        base = self.base
        bn = self.base_n
        bi = self.bi
        self.bsum += m - base[bi]
        base[bi] = m
        k = bi + self.qin               # the short window's newest sample and the one it drops
        if k < 0:
            k += bn
        j = bi + self.qout
        if j < 0:
            j += bn
        self.qbsum += base[k] - base[j]
        bi += 1
        if bi == bn:
            bi = 0
        self.bi = bi
        if self.bfill < bn:
            self.bfill += 1
        c = bi - 1 - self.half          # the sample in the middle of the window
        if c < 0:
            c += bn
        mc = base[c]                    # raw magnitude, in step with the filtered signal
        if mc >= _CONTACT_MG:
            self.iv_contact += 1
        d = mc - self.bsum // self.bfill     # (|a| <= 16 g and the means >= 0: both fit an 'h')
        q = mc - self.qbsum // self.qbase_n
        sn = self.smooth_n
        sm = self.smooth
        qs = self.qsmooth
        si = self.si
        self.ssum += d - sm[si]
        sm[si] = d
        qs[si] = q
        k = si + self.qs_in
        if k < 0:
            k += sn
        j = si + self.qs_out
        if j < 0:
            j += sn
        self.qssum += qs[k] - qs[j]
        si += 1
        if si == sn:
            si = 0
        self.si = si
        fq = self.qssum // self.qsmooth_n
        f = fq if self.quick_filter else self.ssum // sn
        # 3. swings above the adaptive threshold
        thr = self.height * _THRESHOLD_PCT // 100
        least = _THRESHOLD_MIN_MG
        if self.seq >= self.need:           # in a rhythm: a step like the recent ones, however soft
            least = self.height * self.track_pct // 100
            if least > _THRESHOLD_MIN_MG:
                least = _THRESHOLD_MIN_MG
        if thr < least:
            thr = least
        event = NONE
        if mc > self.swing_mag:         # the landing's peak: it comes before the swing's top rises
            self.swing_mag = mc
        if self.in_swing:
            if f > self.swing_max:
                self.swing_max = f
                self.swing_at = n
            if fq > self.swing_q:
                self.swing_q = fq
            if f < thr >> 1:
                self.in_swing = False
                event = self._swing_end()
                # the short band-pass once the rhythm is quick and lands harder than walking here
                # (a pocket's double bump alone does not switch it: it lands like the walk)
                self.quick_filter = self.state >= RUN or (
                    self.seq > 1 and self.avg16 <= self.qf_iv16
                    and self.h_mean * 100 >= self.walk_h * _QUICK_FILTER_OVER_WALK_PCT)
        elif f > thr and self.bfill == self.base_n:
            self.in_swing = True
            self.swing_max = f
            self.swing_at = n
            self.swing_q = fq
        # 4. nothing for a while: stopped
        last = self.last_step
        if last >= 0 and n - self.delay - last > self.gap and not self.in_swing:
            if self.state != STILL:
                if self.state == RUN:
                    event = self._end_bout(self.last_fast, event)
                self.state = STILL
                self.state_since = last + (self.last_iv if self.last_iv < self.gap else 0)
                self.step16 = 0
            self.seq = 0
            self.fast = 0
            self.last_step = -1
            self.stopped_at = n - self.delay
            self.quick_filter = False
            self.height = self.height >> 1
        if event == NONE and self.pending != NONE:
            event = self.pending
            self.lag = self.pending_lag
            self.pending = NONE
        return event

    # ---- per step (still allocation-free) ---------------------------------
    def _swing_end(self):
        hs = self.swing_max
        h = self.swing_q
        p = self.swing_at - self.delay
        last = self.last_step
        if last >= 0:
            iv = p - last
            refractory = (self.avg16 >> 4) * _REFRACTORY_PCT // 100 if self.seq > 1 else 0
            least = self.min_run_iv if self.seq > 1 and self.avg16 <= self.quick_iv * 16 else self.min_iv
            if refractory < least:
                refractory = least
            if (not self.quick_filter and self.walk_iv and h * 100 < self.walk_h * _QUICK_FILTER_OVER_WALK_PCT
                    and refractory < self.walk_iv * self.soft_bump_pct // 100):
                # a soft bump this soon after a walking step is the same step (pocket, purse)
                refractory = self.walk_iv * self.soft_bump_pct // 100
            if iv < refractory:
                return NONE     # a second bump within one step
        else:
            iv = 0
            if self.n - self.delay - self.stopped_at > self.forget_n:
                # a stand this long (the top of the hill): judge what comes next afresh, not
                # against the walking seen before it
                self.walk_h = 0
                self.walk_iv = 0
        self.height = (self.height * 3 + hs) >> 2
        self.last_step = p
        landing = self.swing_mag          # the highest magnitude since the step before
        self.swing_mag = 0
        self.last_iv = iv
        if 0 < iv <= self.quick_iv:       # quick steps, regular or not: where a run may begin
            if self.quick == 0:
                self.quick_from = last
            self.quick += 1
        elif (self.quick >= 1 and self.avg16 <= self.quick_iv * 16
              and -self.regular_pct * self.avg16 <= (iv * 16 - 2 * self.avg16) * 100 <= self.regular_pct * self.avg16):
            self.quick += 2                # one quick step too weak to see
        else:
            self.quick = 0
        if iv <= 0 or iv > self.max_iv * 2:
            self.seq = 1
            self.seq_from = p
            self.fast = 0
            self.hard = 1 if h >= self.run_height_mg else 0   # a run's first landing, from standing
            self.hard_from = p
            return NONE
        avg = (self.avg16 + 8) >> 4
        counted = 1
        doubled = self.doubled
        self.doubled = False
        if self.seq > 1:
            tol = avg * self.regular_pct // 100
            diff = iv - avg
            if diff < 0:
                diff = -diff
            # left and right unalike: long and short intervals in turn, each well off the mean
            if diff * 2 < tol:
                self.alt = 0
            else:
                self.alt = self.alt + 1 if self.alt and (iv > avg) != self.alt_long else 1
                self.alt_long = iv > avg
            if diff <= tol:
                self.seq += 1
                self.avg16 += (iv * 16 - self.avg16) >> 2
            elif (self.seq >= _CONFIRM_STEPS and iv - avg * 2 <= tol and avg * 2 - iv <= tol
                  and not (self.state == RUN and (doubled or 4 * (iv - avg * 2) > avg or 4 * (avg * 2 - iv) > avg))
                  and (self.state >= RUN or self.avg16 > self.qf_iv16)):
                # (while running: only a close double, and never twice running: that is a walk;
                # not running, a rhythm this quick is double bumps: the long interval is the step)
                counted = 2     # one step too weak to see: count it, keep the rhythm
                iv >>= 1        # (and take it as two steps below)
                self.seq += 1
                self.doubled = True
            elif (self.state != RUN and self.alt >= _ALT_STEPS and iv <= 3 * self.prev_iv and self.prev_iv <= 3 * iv
                  and -2 * tol <= iv + self.prev_iv - 2 * avg <= 2 * tol):
                # left and right unalike for a while (a pocket on one leg, a limp): the stride is regular
                self.seq += 1
                self.avg16 += (iv * 16 - self.avg16) >> 2
            elif iv <= self.max_iv:
                # the rhythm before, kept: a run from standing may show its first strides only
                self.prev_seq = self.seq
                self.prev_avg16 = self.avg16
                self.prev_end = last
                self.prev_hard = -1
                if self.hard and self.hard <= self.seq:   # a line of them ending that sequence
                    self.prev_hard = self.hard_from
                    self.prev_hard_n = self.hard
                self._begin_sequence(last, iv)   # this interval may start a new regular run
            else:
                self.seq = 1
                self.seq_from = p
                self.fast = 0
                return NONE
        elif iv <= self.max_iv:
            self._begin_sequence(last, iv)
        else:
            self.seq = 1
            self.seq_from = p
            self.fast = 0
            return NONE
        a16 = self.avg16
        t16 = self.step16 * 2
        strides = a16 >= self.stride_iv * 16 or (
            t16 and a16 >= self.min_stride16 and 100 * (a16 - t16) <= _STRIDE_MATCH_PCT * t16
            and 100 * (t16 - a16) <= _STRIDE_MATCH_PCT * t16)
        if strides:
            # this slow a rhythm, or twice the steps seen in this walk: strides, the other foot
            # too weak to see (a wrist's arm swing)
            counted += counted
        event = NONE
        if self.seq == self.need:
            self.steps += self.need
            if self.state == STILL:
                self.state = WALK
                self.state_since = self.seq_from
        elif self.seq > self.need:
            self.steps += counted
        self.cadence_spm = 960 * self.rate // self.avg16
        if h >= self.run_height_mg:
            if self.hard == 0:
                self.hard_from = p
            self.hard += 1
        else:
            self.hard = 0
        # 5. bouts. The classifier looks at the last few steps: cadence (by the mean interval:
        # left and right steps often differ) and swing height, against the walking steps seen here.
        hp = self.prev_h
        self.prev_h = h
        self.h_mean = (self.h_mean * 3 + h) >> 2
        contact = self.iv_contact
        self.iv_contact = 0
        piv = self.prev_iv
        self.prev_iv = iv
        iv4 = iv + piv + self.iv2 + self.iv3     # the last two strides (four steps)
        full4 = piv > 0 and self.iv2 > 0 and self.iv3 > 0
        self.iv3 = self.iv2
        self.iv2 = piv
        if full4:
            self.stride_spm = 240 * self.rate // iv4
        if (self.seq >= _WALK_LEARN_STEPS and self.cadence_spm < _QUICK_SPM and self.state == WALK
                and self.stride_spm < _QUICK_SPM):
            # (a run from standing can show a walk's rhythm for its first strides: only a walk that
            # lasts teaches how walking lands here)
            # a walking step: how hard walking lands here
            self.walk_h = h if self.walk_h == 0 else self.walk_h + ((h - self.walk_h) >> 4)
            a = self.avg16 >> 4
            if strides:
                a >>= 1         # strides: the step is half of it
            self.walk_iv = a if self.walk_iv == 0 else self.walk_iv + ((a - self.walk_iv) >> 3)
        if self.seq >= _WALK_LEARN_STEPS and self.state == WALK and not strides and a16 <= self.step_max16:
            # the steps of this walk, at any walking cadence: their rhythm at half speed is strides
            self.step16 = a16 if self.step16 == 0 else self.step16 + ((a16 - self.step16) >> 3)
        running = (self.cadence_spm >= self.run_spm and self.h_mean >= self.run_height_mg
                   and self.h_mean * 100 >= self.walk_h * self.run_over_walk_pct)
        if self.state == RUN:
            # the rep's own level against the last strides (two steps: left and right alike)
            hm = self.h_mean
            if self.avg16 >= _FINE_STEP_SAMPLES * 16:   # enough samples a step to trust the last stride's
                hm = (hm + ((h + hp) >> 1)) >> 1        # swings: the effort follows it faster
            effort = self.stride_spm * hm >> 6
            # a step too weak to see now and then is running; two in four steps is a walk's rhythm
            d = self.dbl_hist = ((self.dbl_hist << 1) | (1 if self.doubled else 0)) & 15
            if self.bout_steps < _SETTLE_STEPS:     # the first steps set the rep's level
                easing = self.cadence_spm < self.run_spm
                if not easing:
                    self.ref_spm += (self.stride_spm - self.ref_spm) // 4
                    self.ref_effort += (effort - self.ref_effort) // 4
            else:
                easing = (self.cadence_spm < self.run_spm or self.stride_spm * 100 < self.ref_spm * self.ease_cad_pct
                          or effort * 100 < self.ref_effort * self.ease_effort_pct
                          or (d & 1) + (d >> 1 & 1) + (d >> 2 & 1) + (d >> 3) >= 2)
            if self.doubled:    # a step too weak to see is no evidence of the rep's level: if the
                easing = True   # run goes on it still counts, if it ends the rep ended before it
            if not easing and self.slow and not self.held_n:
                # one step at the level among easing ones is not yet the run going on: a walk's
                # double bumps can look like one now and then (E L E E ends the rep before the
                # first E; E L L and E L E L, a weak foot at 25 Hz, are the run going on)
                self.held_n += 1
                self.slow_contact += contact
                return event
            if not easing:   # the level follows a rising effort (slowly: not the jitter of the
                # rate's sampling) and a fading one slower still: at most 1 step/min every 4
                # steps (a runner tiring over minutes, not a jog-off)
                d = self.stride_spm - self.ref_spm
                if self.bout_steps < _SETTLE_STEPS:
                    pass
                elif d > 0:
                    self.ref_spm += (d + 15) >> 4
                else:
                    self.ref_fade += 1
                    if self.ref_fade >= 4:
                        self.ref_fade = 0
                        self.ref_spm -= 1
                if self.bout_steps >= _SETTLE_STEPS:
                    d = effort - self.ref_effort
                    self.ref_effort += (d + 15) >> 4 if d > 0 else -((-d + 63) >> 6)
                self.last_fast = p
                self.bout_steps += 1 + self.slow + self.held_n   # slow steps that did not end the bout
                self.contact_n += contact + self.slow_contact
                self.slow = 0
                self.slow_contact = 0
                self.held_n = 0
                if self.cadence_spm > self.bout_peak_spm:
                    self.bout_peak_spm = self.cadence_spm
                if landing > self.bout_peak_mg:
                    self.bout_peak_mg = landing
                if not self.announced:
                    if self.bout_steps >= _REP_MIN_STEPS:   # it lasted: a run, not a purse's rattle
                        self.announced = True
                        self.lag = self.n - self.bout_start
                        event = MOVE_START
                else:
                    event = self._check_floor()
            else:
                self.slow += 1
                self.slow_contact += contact
                if self.slow >= _SLOW_STEPS:
                    event = self._end_bout(self.last_fast, NONE)
                    self.fast = 0
                    self.slow = 0
                    self.state = JOG
                    self.state_since = self.last_fast
            return event
        if self.state == JOG:       # eased off a rep: a new one needs a walk or a stop first
            if running:
                self.slow = 0
            else:
                self.slow += 1
                if self.slow >= 2 * _SLOW_STEPS:
                    self.state = WALK
                    self.state_since = p
            return event
        if running:
            if self.fast == 0:
                self.fast_from = last
                self.fast_peak = landing
            self.fast += 1
            if landing > self.fast_peak:
                self.fast_peak = landing
            if self.fast >= _RUN_STEPS and self.seq >= _RUN_STEPS:
                start = self.fast_from
                steps = self.fast + 1
                if self.quick > self.fast:    # the rhythm settled a step or two into the run
                    start = self.quick_from
                    steps = self.quick + 1
                a = self.prev_avg16
                if (self.prev_hard >= 0 and self.prev_end == start and self.prev_seq <= _STRIDES_FIRST
                        and 3 * self.avg16 <= 2 * a and 2 * a <= 5 * self.avg16):
                    # hard landings at half this rhythm just before it: the run's first strides,
                    # the other foot too weak to see at its start
                    start = self.prev_hard
                    steps += 2 * self.prev_hard_n
                if self.armed and start < self.arm_at:
                    start = self.arm_at
                self.state = RUN
                self.state_since = start
                self._start_bout(start)
                self.bout_steps = steps
                self.contact_n = contact * steps
                self.bout_peak_mg = self.fast_peak
                self.bout_peak_spm = self.cadence_spm
                self.stride_spm = self.cadence_spm
                self.ref_spm = self.cadence_spm
                self.ref_effort = self.cadence_spm * self.h_mean >> 6
                self.last_fast = p      # MOVE_START once it lasts (_REP_MIN_STEPS)
        else:
            self.fast = 0
        return event

    def _begin_sequence(self, first, iv):
        """A new regular sequence from step ``first``, one interval ``iv`` long so far; soft
        swings need more steps in a row before they count."""
        self.seq = 2
        self.seq_from = first
        self.avg16 = iv * 16
        self.need = _CONFIRM_STEPS if self.height >= _SOFT_SWING_MG else _SOFT_CONFIRM_STEPS

    def _check_floor(self):
        if not self.armed or self.cadence_floor <= 0 or self.low_sent:
            return NONE
        if self.cadence_spm < self.cadence_floor:
            self.low += 1
            if self.low >= _LOW_STEPS:
                self.low_sent = True
                self.lag = 0
                return CADENCE_LOW
        else:
            self.low = 0
        return NONE

    def _start_bout(self, start):
        self.bout_start = start
        self.bout_end = start
        self.bout_steps = 0
        self.bout_peak_spm = 0
        self.bout_peak_mg = 0
        self.slow = 0
        self.slow_contact = 0
        self.contact_n = 0
        self.held_n = 0
        self.low = 0
        self.low_sent = False
        self.announced = False  # MOVE_START not sent yet

    def _end_bout(self, end, event):
        self.bout_end = end
        self.quick = 0          # the next run cannot begin before this one ended
        if not self.announced:  # too short to be a run: nothing to report
            return event
        self.bouts += 1
        if event != NONE:   # two events in one sample: report the stop next sample
            self.pending = MOVE_STOP
            self.pending_lag = self.n + 1 - end
            return event
        self.lag = self.n - end
        return MOVE_STOP
