"""The session log format: every event round-trips, and no damaged byte is read as data."""
import binascii

from expect import raises
from swcore import logformat as fmt

EVENTS = [
    (0, "plan_fallback", {"error": "plan error: set 1 'Main': field 'sets': is missing"}),
    (0, "step_start", {"set": "Warm-Up Set", "step": "Easy Jog", "kind": "timed", "index": 0}),
    (0, "cue", {"pattern": "step_start"}),
    (597000, "cue", {"pattern": "countdown"}),
    (910000, "sprint_go", {"rep": 1}),
    (911000, "sprint_tick", {"cadence_spm": 182, "peak_g": 3.41}),
    (912000, "cue", {"pattern": "cadence_low", "cadence_spm": 140}),
    (925000, "rep", {"rep": 1, "start_ms": 910000, "duration_ms": 15000, "reason": "motion",
                     "motion": True, "reaction_ms": 420, "steps": 44, "cadence_spm": 176.5,
                     "peak_g": 3.9}),
    (925000, "step_end", {"set": "Descending Sprints Set", "step": "Sprint", "kind": "sprint",
                          "index": 3, "reason": "motion"}),
    (930000, "ignored", {"gesture": "tap", "why": "recovery not over"}),
    (931000, "pause", {"step": "Walk Back Recovery", "index": 4}),
    (961000, "resume", {"paused_ms": 30000}),
    (962000, "sensor_fault", {"error": "OSError: [Errno 19] ENODEV"}),
    (963000, "motion_no_tap", {"step": "Walk Back Recovery"}),
    (2730000, "session_end", {"reps": 6, "paused_ms": 30000}),
]

ODD = [
    (5, "made_up_event", {"a": 1, "b": -7, "c": "naïve ✓", "d": None, "e": [1, [2, "x"]],
                          "f": {"k": 1.5}, "g": 0.1 + 0.2, "h": -2.25, "i": False, "j": 2 ** 40}),
    (6, "rep", {"rep": 2, "new_metric": 12.345678, "reason": "something new"}),
    (7, "sprint_tick", {"cadence_spm": 180, "peak_g": 2.0, "extra": 1}),   # not packable
    (8, "sprint_tick", {"cadence_spm": 181.5, "peak_g": 2.0}),            # not packable
    (9, "cue", {}),
    (4000000000, "step_start", {"index": -1, "step": ""}),
]


def _file(events, **kw):
    head = fmt.encode_header(kw.get("session", 3), kw.get("boot", 7), "Descending Sprints",
                             0x1234ABCD, "0.1.0", kw.get("wall_s"))
    return head + b"".join(fmt.encode_record(t, e, f) for t, e, f in events)


def test_crc_fallback_equals_binascii():
    samples = [b"", b"a", b"123456789", bytes(range(256)), b"\xff" * 1000]
    for s in samples:
        assert fmt.crc32_pure(s) == binascii.crc32(s) & 0xFFFFFFFF
        assert fmt.crc32(s) == fmt.crc32_pure(s)
    assert fmt.crc32_pure(b"123456789") == 0xCBF43926   # the CRC-32 check value
    # chained, as a reader checks a block that arrives in pieces
    assert fmt.crc32_pure(b"6789", fmt.crc32_pure(b"12345")) == 0xCBF43926


def _same_shape_sessions():
    """Two different sessions whose header and records have the same lengths."""
    a = fmt.encode_header(1, 1, "a", 0x11, "0.1.0") + fmt.encode_record(100, "rep", {"rep": 1})
    b = fmt.encode_header(7, 3, "b", 0x22, "0.1.1") + fmt.encode_record(101, "rep", {"rep": 2})
    return a, b


def test_sessions_with_equal_record_lengths_get_different_digests():
    a, b = _same_shape_sessions()
    assert a != b and len(a) == len(b)
    # why a whole-file CRC-32 cannot name a session: each block ends with its own
    # CRC, which leaves the CRC register in a state set by the block's length alone
    assert fmt.crc32(a) == fmt.crc32(b)
    assert fmt.session_digest(a) != fmt.session_digest(b)
    assert fmt.session_digest(a) == fmt.session_digest(bytearray(a)) == fmt.session_digest(memoryview(a))


def test_session_digest_of_chunks_equals_digest_of_the_whole():
    data = _file(EVENTS)
    whole = fmt.session_digest(data)
    assert fmt.session_digest(data[i:i + 7] for i in range(0, len(data), 7)) == whole
    assert fmt.session_digest([data[:1], b"", data[1:]]) == whole
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    assert fmt.session_digest(flipped) != whole
    assert 0 <= whole <= 0xFFFFFFFF


def test_header_fields_round_trip():
    header, records, problems = fmt.read_session(_file([], wall_s=1790000000))
    assert problems == [] and records == []
    assert header["session"] == 3 and header["boot"] == 7
    assert header["plan"] == "Descending Sprints" and header["plan_hash"] == 0x1234ABCD
    assert header["fw"] == "0.1.0" and header["format"] == fmt.VERSION
    assert header["clock_set"] is True and header["wall_s"] == 1790000000
    header, _, _ = fmt.read_session(_file([]))
    assert header["clock_set"] is False and "wall_s" not in header


def test_app_events_and_unknown_ones_round_trip():
    header, records, problems = fmt.read_session(_file(EVENTS + ODD))
    assert problems == []
    assert len(records) == len(EVENTS + ODD)
    for got, want in zip(records, EVENTS + ODD):
        assert got == want, (got, want)
        for k in want[2]:   # same types too: 2.0 stays a float, 1 an int, True a bool
            assert type(got[2][k]) is type(want[2][k]), (k, got, want)


def test_sprint_tick_is_compact():
    rec = fmt.encode_record(911000, "sprint_tick", {"cadence_spm": 182, "peak_g": 3.41})
    assert len(rec) <= 14, len(rec)   # 4 of them the CRC
    generic = fmt.encode_record(911000, "sprint_tick2", {"cadence_spm": 182, "peak_g": 3.41})
    assert len(rec) < len(generic)


def test_bad_records_are_refused_with_a_reason():
    assert "t_ms" in str(raises(fmt.FormatError, fmt.encode_record, -1, "cue", {}))
    e = raises(fmt.FormatError, fmt.encode_record, 0, "plan_fallback", {"error": "x" * 2000})
    assert "plan_fallback" in str(e)


def test_every_truncation_keeps_whole_records_and_says_so():
    data = _file(EVENTS)
    header_len = fmt.decode_header(data)[1]
    ends = [header_len]
    for t, e, f in EVENTS:
        ends.append(ends[-1] + len(fmt.encode_record(t, e, f)))
    for cut in range(len(data) + 1):
        header, records, problems = fmt.read_session(data[:cut])
        if cut < header_len:
            assert header is None and records == [] and problems
            continue
        whole = len([e for e in ends[1:] if e <= cut])
        assert records == EVENTS[:whole], cut
        if cut in ends:
            assert problems == [], (cut, problems)
        else:
            assert len(problems) == 1 and "truncated" in problems[0], (cut, problems)


def test_damage_is_skipped_never_read_as_data():
    data = _file(EVENTS)
    header_len = fmt.decode_header(data)[1]
    for pos in range(header_len, len(data), 3):
        for flip in (0x01, 0x80):
            bad = bytearray(data)
            bad[pos] ^= flip
            header, records, problems = fmt.read_session(bytes(bad))
            assert problems, pos
            assert len(records) == len(EVENTS) - 1, (pos, problems)
            # the records read are the real ones, in order
            i = 0
            for r in records:
                while EVENTS[i] != r:
                    i += 1
                i += 1


def test_garbage_and_wrong_versions_never_raise():
    data = _file(EVENTS)
    wrong = bytearray(data)
    wrong[4] = fmt.VERSION + 1
    header, records, problems = fmt.read_session(bytes(wrong))
    assert header is None and records == [] and "version" in problems[0]
    for junk in (b"", b"SWLG", b"\x00" * 100, b"\xff" * 300, b"hello world" * 20, data[:50] + data):
        header, records, problems = fmt.read_session(junk)
        assert problems
    # erased flash after the last record (a cut between the allocation and the write)
    header, records, problems = fmt.read_session(data + b"\xff" * 64)
    assert records == EVENTS and problems
    header, records, problems = fmt.read_session(data + b"\x00" * 64)
    assert records == EVENTS and problems


def test_a_default_session_fits_in_a_few_kilobytes():
    # one full default session, the way the simulator would log it (6 reps + ticks)
    events = list(EVENTS)
    for rep in range(6):
        for s in range(15):
            events.append((911000 + s * 1000, "sprint_tick", {"cadence_spm": 180 + s, "peak_g": 3.1}))
        events.extend(EVENTS[1:12])
    size = len(_file(events))
    assert size < 6 * 1024, size


def test_the_documented_example_bytes():
    # docs/log-format.md, "Example"
    rec = fmt.encode_record(597000, "cue", {"pattern": "countdown"})
    assert rec == bytes([0x06, 0x03, 0x88, 0xb8, 0x24, 0x3b, 0x0a, 0xd6, 0xed, 0x5b, 0xc2])


# ---- issue 15: the writer never writes what the reader refuses; the reader is total ----
def _record_with_body(body):
    """A CRC-valid record around any body bytes (as flash rot or a bug could leave)."""
    buf = bytearray()
    fmt.put_varint(buf, len(body))
    buf.extend(body)
    buf.extend(binascii.crc32(bytes(buf)).to_bytes(4, "little") if hasattr(int, "to_bytes")
               else bytes([(binascii.crc32(bytes(buf)) >> s) & 0xFF for s in (0, 8, 16, 24)]))
    return bytes(buf)


def test_lone_surrogates_in_a_plan_name_still_give_a_readable_session():
    # what MicroPython's json made of "Hill \ud83c\udfc3": two lone surrogates
    name = "Hill \ud83c\udfc3"
    head = fmt.encode_header(1, 1, name, 0, "0.1.0")
    data = head + fmt.encode_record(0, "step_start", {"step": name, "index": 0})
    header, records, problems = fmt.read_session(data)
    assert header is not None and problems == [], problems
    assert header["plan"] == "Hill ??????" and records[0][2]["step"] == "Hill ??????"
    emoji = "Hill " + chr(0x1F3C3)          # the real character passes untouched
    header, _r, _p = fmt.read_session(fmt.encode_header(1, 1, emoji, 0, "0.1.0"))
    assert header["plan"] == emoji


def test_a_long_plan_name_is_cut_so_the_header_stays_readable():
    head = fmt.encode_header(1, 1, "x" * 1000, 0, "0.1.0", wall_s=1790000000, builtin=True)
    header, records, problems = fmt.read_session(head + fmt.encode_record(5, "cue", {}))
    assert problems == [] and records == [(5, "cue", {})]
    assert header["plan"] == "x" * fmt.MAX_HEADER_TEXT and header["wall_s"] == 1790000000
    cut = fmt.encode_header(1, 1, chr(0xE9) * 60, 0, "0.1.0")     # 120 bytes: cut between characters
    assert fmt.read_session(cut)[0]["plan"] == chr(0xE9) * (fmt.MAX_HEADER_TEXT // 2)
    assert "must be text" in str(raises(fmt.FormatError, fmt.encode_header, 1, 1, None, 0, "0.1.0"))


def test_the_reader_refuses_surrogate_and_overlong_bytes_on_every_runtime():
    head = fmt.encode_header(1, 1, "P", 0, "0.1.0")
    for bad in (b"\xed\xa0\xbc", b"\xc0\xae", b"\xf4\x90\x80\x80"):
        body = bytes([0, 1, len(bad) + 0]) + bad      # a named event whose name is not UTF-8
        header, records, problems = fmt.read_session(head + _record_with_body(body))
        assert header is not None and records == [] and "not UTF-8" in problems[0], (bad, problems)


def test_a_deeply_nested_json_value_is_a_reported_skip():
    head = fmt.encode_header(1, 1, "P", 0, "0.1.0")
    text = b"[" * 1000
    body = bytes([3, 7, (31 << 3) | 7, 1, ord("v"), 2]) + bytes([0xE8, 0x07]) + text
    data = head + _record_with_body(body) + fmt.encode_record(9, "cue", {})
    header, records, problems = fmt.read_session(data)
    assert records == [(9, "cue", {})] and "nested more than 16 deep" in problems[0], problems


def test_any_exception_a_body_causes_is_a_skip():
    from swcore import logread
    head = fmt.encode_header(1, 1, "P", 0, "0.1.0")
    real = logread.decode_body

    def exploding(body):
        if body[0] == 3:
            raise MemoryError("no room")
        return real(body)
    logread.decode_body = exploding
    try:
        data = head + fmt.encode_record(1, "cue", {}) + fmt.encode_record(2, "pause", {})
        header, records, problems = fmt.read_session(data)
    finally:
        logread.decode_body = real
    assert records == [(2, "pause", {})] and "MemoryError" in problems[0]


def test_a_record_type_from_a_newer_firmware_is_one_skipped_record_not_damage():
    head = fmt.encode_header(1, 1, "P", 0, "0.1.0")
    newer = _record_with_body(bytes([200, 5, 1, 2, 3]))
    data = head + fmt.encode_record(1, "cue", {}) + newer + fmt.encode_record(9, "pause", {})
    header, records, problems = fmt.read_session(data)
    assert records == [(1, "cue", {}), (9, "pause", {})]
    assert len(problems) == 1 and "unknown record type 200" in problems[0], problems
