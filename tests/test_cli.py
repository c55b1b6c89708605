"""The `sprintwatch` command's habits: start-up without heavy imports, --version, pipes,
repeated options, missing files, and one line (never a traceback) for any failure."""
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import cli, firmware, sim

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "fit_tool", "bleak", "bumble", "tqdm", "mpremote", "serial", "asyncio", "numpy",
         "cryptography")


def _python(code, **kw):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, **kw)


def test_building_every_parser_imports_no_heavy_library():
    """--help registers every command: a module that imports matplotlib, fit_tool, bleak...
    at its top level would slow every command down (issue 12: 3 s before anything)."""
    proc = _python("import sys; from host_tools import cli; cli.build_parser(list(cli.COMMANDS.values())); "
                   "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert not loaded & set(HEAVY), "imported at parser time: %s" % sorted(loaded & set(HEAVY))


def test_a_known_command_imports_only_its_own_module():
    assert cli.modules_for(["plan", "check", "x.json"]) == ["host_tools.plan_cmd"]
    assert cli.modules_for(["export-plan", "p.json"]) == ["host_tools.export"]
    assert cli.modules_for(["--version"]) == []
    assert cli.modules_for(["--help"]) == cli.modules_for(["nosuch"]) == cli.SUMMARY_ONLY


def test_top_level_help_lists_every_command_without_importing_them(capsys):
    import sys
    proc = _python("import sys\nfrom host_tools import cli\ntry:\n    cli.main(['--help'])\n"
                   "except SystemExit:\n    pass\n"
                   "print('LOADED', ' '.join(m for m in sys.modules if m.startswith('host_tools.')))")
    assert proc.returncode == 0, proc.stderr
    help_text, loaded = proc.stdout.split("LOADED")
    for name, summary in cli.SUMMARIES.items():
        assert name in help_text and summary[:30] in " ".join(help_text.split())
    assert set(loaded.split()) <= {"host_tools.cli", "host_tools.firmware"}, loaded
    with pytest.raises(SystemExit):
        cli.main(["nosuch"])
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err


def test_summaries_are_the_commands_own_help():
    parser = cli.build_parser(list(cli.COMMANDS.values()))
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {a.dest: a.help for a in sub._choices_actions} == cli.SUMMARIES


def test_every_listed_command_is_registered_by_its_module():
    parser = cli.build_parser(list(cli.COMMANDS.values()))
    sub = next(a for a in parser._actions if a.dest == "command")
    # Both ways: a command a module adds without a COMMANDS entry would not be found
    # when typed (only the listed command's module is imported).
    assert set(cli.COMMANDS) == set(sub.choices)


def test_version_names_host_and_firmware(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("sprintwatch ") and "firmware %s" % firmware.firmware_version() in out
    app = (firmware.FIRMWARE_DIR / "app.py").read_text()
    assert 'FIRMWARE_VERSION = "%s"' % firmware.firmware_version() in app


def test_a_closed_pipe_ends_quietly():
    """`sprintwatch plan show | head -1`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.cli", "plan", "show"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()             # the reader went away before the first line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait() == cli.EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_repeated_press_options_add_up():
    args = cli.build_parser(["host_tools.sim"]).parse_args(
        ["sim", "--double", "700", "--double", "1700", "--taps", "5,9", "--taps", "12",
         "--hold", "20:900", "--hold", "30:1200"])
    presses = sim.presses_from_args(args.taps, args.hold, args.double)
    starts = [t for t, _ms in presses]
    assert starts == [5000, 9000, 12000, 20000, 30000, 700000, 700200, 1700000, 1700200]


@pytest.mark.parametrize("option", ["--plan", "--trace"])
def test_a_missing_input_file_is_a_usage_error_naming_it(tmp_path, capsys, option):
    missing = tmp_path / "missing.json"
    with pytest.raises(SystemExit) as e:
        cli.main(["sim", option, str(missing), "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "no such file: %s" % missing in capsys.readouterr().err
    assert not (tmp_path / "o").exists()          # nothing ran on the built-in plan


def test_a_folder_given_as_file_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["sim", "--plan", str(tmp_path)])
    assert "%s is a folder, not a file" % tmp_path in capsys.readouterr().err


def test_an_unexpected_failure_is_one_line_and_exit_1(monkeypatch, capsys):
    from host_tools import plan_cmd

    def broken(args):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(plan_cmd, "show", broken)
    monkeypatch.delenv("SPRINTWATCH_DEBUG", raising=False)
    assert cli.main(["plan", "show"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: disk on fire" in err and "Traceback" not in err


@pytest.mark.parametrize("exc, expected", [
    (FileNotFoundError(2, "No such file or directory", "a/b.json"), "no such file or folder: a/b.json"),
    (IsADirectoryError(21, "Is a directory", "out"), "out is a folder, not a file"),
    (PermissionError(13, "Permission denied", "/root/x"), "permission denied: /root/x"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "not UTF-8 text (byte 0xff at offset 0)"),
])
def test_os_and_decoding_errors_name_what_is_wrong(exc, expected):
    assert cli.describe_error(exc) == expected


def test_json_errors_say_where():
    import json
    with pytest.raises(ValueError) as e:
        json.loads('{"a": }')
    assert cli.describe_error(e.value) == "not valid JSON: Expecting value (line 1, column 7)"


def test_debug_variable_shows_the_traceback(monkeypatch):
    from host_tools import plan_cmd
    monkeypatch.setattr(plan_cmd, "show", lambda args: 1 / 0)
    monkeypatch.setenv("SPRINTWATCH_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["plan", "show"])

