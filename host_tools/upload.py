"""``sprintwatch upload SESSION --to intervals.icu``: send a session's FIT activity.

intervals.icu's documented activity upload: ``POST /api/v1/athlete/{athlete}/activities``
with the file as the ``file`` part of a ``multipart/form-data`` body, authenticated with
HTTP basic auth, user name the literal ``API_KEY`` and the password the user's API key
(intervals.icu Settings, Developer Settings). Athlete ``0`` means the key's own athlete.

The key comes from ``$INTERVALS_ICU_API_KEY``, else from ``<data dir>/intervals.json``
(mode 0600) written by ``sprintwatch upload --save-key``. ``$SPRINTWATCH_INTERVALS_URL``
points the upload at another server (the tests' local one).
"""
import base64
import json
import os
import secrets
import sys

DEFAULT_URL = "https://intervals.icu"
KEY_FILE = "intervals.json"
TARGETS = ("intervals.icu",)


def register(sub):
    p = sub.add_parser("upload", help="upload a session to intervals.icu as a FIT activity",
                       description="Export SESSION as a FIT activity and upload it to intervals.icu "
                                   "with your API key (intervals.icu Settings, Developer Settings). "
                                   "`upload --save-key` stores the key (mode 0600) once.")
    p.add_argument("session", nargs="?", help="session id from `sprintwatch sessions`, a session log, "
                                              "a sim output folder or a JSON export")
    p.add_argument("--to", choices=TARGETS, default="intervals.icu", help="where to (default intervals.icu)")
    p.add_argument("--athlete", default=None,
                   help="intervals.icu athlete id, e.g. i12345 (default: the saved one, else the key's own)")
    p.add_argument("--start", help="wall-clock start when the device's clock was never set (as in export)")
    p.add_argument("--db", help="sync database for session ids (default: the one sprintwatch sync uses)")
    p.add_argument("--save-key", action="store_true",
                   help="read the API key from the terminal (or stdin) and keep it for later uploads")
    p.set_defaults(func=run_command)


def key_path():
    from host_tools.paths import data_dir
    return data_dir() / KEY_FILE


def save_key(key, athlete=None):
    path = key_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"api_key": key, "athlete": athlete or "0"}, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load_key():
    """(api key, saved athlete id) or (None, None)."""
    env = os.environ.get("INTERVALS_ICU_API_KEY")
    saved = {}
    try:
        saved = json.loads(key_path().read_text())
    except (OSError, ValueError):
        pass
    if not isinstance(saved, dict):
        saved = {}
    key = env or saved.get("api_key")
    return (key if isinstance(key, str) and key else None), saved.get("athlete")


def multipart(field, filename, data, content_type="application/octet-stream"):
    """(body, content type header) of a multipart/form-data body with one file part."""
    boundary = "sprintwatch-" + secrets.token_hex(12)
    head = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            "Content-Type: %s\r\n\r\n" % (boundary, field, filename, content_type)).encode()
    return head + data + ("\r\n--%s--\r\n" % boundary).encode(), "multipart/form-data; boundary=%s" % boundary


def upload_fit(data, filename, key, athlete="0", base_url=None, timeout=60):
    """POST the FIT file; returns the server's JSON answer (dict). Raises SystemExit with
    one line saying what went wrong."""
    import urllib.error
    import urllib.parse
    import urllib.request
    base = (base_url or os.environ.get("SPRINTWATCH_INTERVALS_URL") or DEFAULT_URL).rstrip("/")
    url = "%s/api/v1/athlete/%s/activities" % (base, urllib.parse.quote(str(athlete), safe=""))
    body, ctype = multipart("file", filename, data)
    auth = base64.b64encode(("API_KEY:%s" % key).encode()).decode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": "Basic " + auth, "Content-Type": ctype, "Accept": "application/json",
        "User-Agent": "sprintwatch"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read(1 << 20)
    except urllib.error.HTTPError as e:
        detail = e.read(500).decode("utf-8", "replace").strip().replace("\n", " ")
        if e.code in (401, 403):
            raise SystemExit("error: intervals.icu refused the API key (HTTP %d): check it in "
                             "intervals.icu Settings, Developer Settings, and the athlete id" % e.code)
        raise SystemExit("error: intervals.icu answered HTTP %d%s" % (e.code, ": " + detail if detail else ""))
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise SystemExit("error: cannot reach %s: %s" % (base, reason))
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    return answer if isinstance(answer, dict) else {"answer": answer}


def run_command(args):
    if args.save_key:
        import getpass
        key = getpass.getpass("intervals.icu API key: ") if sys.stdin.isatty() else sys.stdin.readline()
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            print("error: that is not an API key (one word, from intervals.icu Settings)", file=sys.stderr)
            return 1
        print("saved the key in %s (readable by you only)" % save_key(key, args.athlete))
        if not args.session:
            return 0
    if not args.session:
        print("error: give a SESSION to upload (see sprintwatch sessions)", file=sys.stderr)
        return 1
    key, saved_athlete = load_key()
    if key is None:
        print("error: no intervals.icu API key: run `sprintwatch upload --save-key` or set "
              "INTERVALS_ICU_API_KEY", file=sys.stderr)
        return 1
    from host_tools import export
    from host_tools.session_source import SessionNotFound, load_session
    try:
        header, events = load_session(args.session, args.db)
    except SessionNotFound as e:
        print("upload error: %s" % e, file=sys.stderr)
        return 1
    start = export._parse_start(args.start, header)
    if start is None and not export.clock_known(header):
        print("upload error: the device's clock was not set when this session was recorded, so "
              "its start time is unknown: give --start 2026-05-01T07:30:00Z (or --start file)",
              file=sys.stderr)
        return 1
    data = export.export_bytes(header, events, "fit", start)
    name = "sprintwatch-%s.fit" % "".join(c if c.isalnum() else "-" for c in str(args.session)).strip("-")[-40:]
    answer = upload_fit(data, name, key, args.athlete or saved_athlete or "0")
    activity = answer.get("id") or next((a.get("id") for a in answer.get("activities", [])
                                         if isinstance(a, dict)), None)
    print("uploaded %s to intervals.icu (%d bytes)%s" % (args.session, len(data),
          ": activity %s" % activity if activity else ""))
    return 0
