"""A corpus of bad input for every command that reads files (issue 15): no traceback
for any of it; one clear line naming what is wrong, and a non-zero exit.

Each case is the command line a user might type with a file that is missing, empty,
not text, not JSON, not a plan, not a session, or a plan with a value out of range.
The message must come from the module that read the input (so it is not the CLI's
catch-all "unexpected" line)."""
import json
import struct
import sys
from pathlib import Path

import pytest

from host_tools import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "firmware"))
from swcore import logformat as fmt   # noqa: E402

GOOD_STEP = {"name": "Jog", "kind": "timed", "duration_s": 60}


def _plan(step_json):
    return ('{"name": "P", "sets": [{"name": "S", "steps": [%s]}]}' % step_json).encode()


def _bad_header_log():
    head = bytearray(fmt.encode_header(1, 1, "Hill XXX", 0, "0.1.0"))
    at = bytes(head).index(b"XXX")
    head[at:at + 3] = b"\xed\xa0\xbc"
    head[-4:] = struct.pack("<I", fmt.crc32(bytes(head[:-4])))
    return bytes(head)


FILES = {
    "empty.json": b"",
    "garbage.json": b"\x00\xff\xfe\x80 not json",
    "latin1.json": '{"name": "Caf\xe9", "sets": []}'.encode("latin-1"),
    "array.json": b"[1, 2, 3]",
    "string.json": b'"a plan"',
    "nan.json": _plan('{"name": "J", "kind": "timed", "duration_s": NaN}'),
    "inf.json": _plan('{"name": "J", "kind": "timed", "duration_s": Infinity}'),
    "huge.json": _plan('{"name": "J", "kind": "timed", "duration_s": 1e308}'),
    "overflow.json": _plan('{"name": "J", "kind": "timed", "duration_s": 1e400}'),
    "bigint.json": _plan('{"name": "J", "kind": "timed", "duration_s": %s}' % ("9" * 5000)),
    "zeros.json": _plan('{"name": "J", "kind": "timed", "duration_s": 0012}'),
    "deep.json": b"[" * 100000 + b"]" * 100000,
    "lone.json": b'{"name": "Hill \\ud83c", "sets": []}',
    "longname.json": ('{"name": "%s", "sets": [{"name": "S", "steps": [%s]}]}' % ("x" * 1000, json.dumps(GOOD_STEP))).encode(),
    "floor.json": _plan('{"name": "S", "kind": "sprint", "cadence_floor_spm": 50}'),
    "effort.json": _plan('{"name": "S", "kind": "sprint", "effort_pct": 0}'),
    "short.json": _plan('{"name": "J", "kind": "timed", "duration_s": 0.5}'),
    "long.json": _plan('{"name": "J", "kind": "timed", "duration_s": 86401}'),
    "big.json": b'{"name": "P", "note": "' + b"x" * 100000 + b'", "sets": []}',
    "empty.swlog": b"",
    "garbage.swlog": b"\x00\xff" * 300,
    "torn.swlog": fmt.encode_header(1, 1, "P", 0, "0.1.0")[:9],
    "badhead.swlog": _bad_header_log(),
    "export-empty.json": b"",
    "export-wrong.json": b'{"header": 5, "events": "x"}',
    "export-list.json": b"[1, 2]",
    "export-events.json": b'{"header": {}, "events": [{"t_ms": "x", "event": 5}, 7]}',
    "events.jsonl": b'{"t_ms": 1, "event": "cue"}\nnot json\n',
    "trace.csv": b"t_ms,ax,ay,az\n1,2,three,4\n",
    "empty.csv": b"",
    "binary.csv": b"\x00\x01\x02\xff\xfe",
    "notadb.db": b"this is not a database" * 10,
}

PLAN_FILES = ["empty.json", "garbage.json", "latin1.json", "array.json", "string.json", "nan.json",
              "inf.json", "huge.json", "overflow.json", "bigint.json", "zeros.json", "deep.json",
              "lone.json", "longname.json", "floor.json", "effort.json", "short.json", "long.json",
              "big.json", "missing.json", "."]
SESSION_FILES = ["empty.swlog", "garbage.swlog", "torn.swlog", "badhead.swlog", "export-empty.json",
                 "export-wrong.json", "export-list.json", "export-events.json", "events.jsonl",
                 "missing.swlog", "empty-folder"]

CASES = (
    [("plan check", ["plan", "check", f]) for f in PLAN_FILES]
    + [("plan show", ["plan", "show", f]) for f in ("nan.json", "deep.json", "garbage.json", "missing.json")]
    + [("export-plan", ["export-plan", f, "--out", "o.fit"]) for f in ("nan.json", "overflow.json", "empty.json")]
    + [("export " + fm, ["export", f, "--format", fm, "--out", "o." + fm])
       for f in SESSION_FILES for fm in ("fit", "csv")]
    + [("export tcx", ["export", "garbage.swlog", "--format", "tcx", "--out", "o.tcx"]),
       ("export json", ["export", "badhead.swlog", "--format", "json", "--out", "o.json"]),
       ("export --start", ["export", "events.jsonl", "--start", "yesterday", "--out", "o.fit"])]
    + [("log show", ["log", "show", f]) for f in ("empty.swlog", "garbage.swlog", "missing.swlog", "empty-folder")]
    + [("plot", ["plot", f, "--out", "o.png"]) for f in ("garbage.swlog", "export-wrong.json", "missing.swlog")]
    + [("next --plan", ["next", "--sessions", "empty-folder", "--plan", "nan.json"]),
       ("next --write", ["next", "--sessions", "empty-folder", "--write", "empty-folder/x/y/z.json"])]
    + [("analyze", ["analyze", f]) for f in ("trace.csv", "empty.csv", "binary.csv", "missing.csv")]
    + [("sim", ["sim", "--trace", "binary.csv", "--out", "simout", "--runtime", "cpython"]),
       ("sim", ["sim", "--taps", "x,y", "--out", "simout", "--runtime", "cpython"]),
       ("sessions", ["sessions", "--db", "notadb.db"]),
       ("export id", ["export", "42", "--db", "notadb.db"]),
       ("flash", ["flash", "--board", "no-such-board"]),
       ("flash --plan", ["flash", "--board", "sim", "--plan", "nan.json", "--port", "/dev/null-none"])]
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    for name, data in FILES.items():
        (d / name).write_bytes(data)
    (d / "empty-folder").mkdir()
    return d


@pytest.mark.parametrize("what,argv", CASES, ids=["%s %s" % (w, a[-1] if a[-1] not in ("o.fit", "o.csv") else a[1]) for w, a in CASES])
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(corpus, what, argv, capsys, monkeypatch):
    monkeypatch.chdir(corpus)
    monkeypatch.setenv("SPRINTWATCH_DEBUG", "")
    monkeypatch.delenv("SPRINTWATCH_DEBUG")
    said = ""
    try:
        rc = cli.main(argv)
    except SystemExit as e:          # argparse usage errors exit 2 after printing usage;
        rc = e.code                  # SystemExit("error: ...") prints its text and exits 1
        if isinstance(rc, str):
            said, rc = rc, 1
    out, err = capsys.readouterr()
    err += said
    assert rc not in (0, None), (argv, out, err)
    assert "Traceback" not in err + out
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert lines, (argv, out)
    if rc == 2 and lines[0].startswith("usage:"):
        lines = lines[-1:]           # usage, then the one line that says what is wrong
    assert len(lines) == 1, (argv, err)
    assert "unexpected" not in lines[0], (argv, lines[0])
