"""`sprintwatch upload SESSION --to intervals.icu` against a local server that checks the
request as intervals.icu documents its activity upload: POST
/api/v1/athlete/{id}/activities, basic auth API_KEY:<key>, multipart/form-data with the
FIT file as the `file` part."""
import base64
import email.parser
import email.policy
import http.server
import json
import os
import threading

import fitdecode
import pytest

from host_tools import cli, upload
from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim

KEY = "1t3r49tm3482s2u3h3tyhunof"


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []
    status = 201

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"icu_athlete_id": "i42", "id": "i42-7"}
                                    if type(self).status < 300 else {"error": "nope"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch, tmp_path):
    Recorder.seen = []
    Recorder.status = 201
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SPRINTWATCH_INTERVALS_URL", "http://127.0.0.1:%d" % httpd.server_port)
    monkeypatch.setenv("SPRINTWATCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("INTERVALS_ICU_API_KEY", raising=False)
    yield Recorder
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("up") / "sim"
    run_sim(out, presses=presses_from_args(DEMO_TAPS, "", ""), runtime="cpython")
    return out


def _form_file(headers, body):
    """The multipart body parsed by the standard library's MIME parser: {name: (filename, bytes)}."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body)
    assert msg.get_content_type() == "multipart/form-data"
    return {part.get_param("name", header="content-disposition"):
            (part.get_filename(), part.get_payload(decode=True)) for part in msg.iter_parts()}


def test_upload_posts_the_fit_file_as_documented(server, session_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INTERVALS_ICU_API_KEY", KEY)
    assert cli.main(["upload", str(session_dir), "--to", "intervals.icu", "--athlete", "i42"]) == 0
    assert "activity i42-7" in capsys.readouterr().out
    ((path, headers, body),) = server.seen
    assert path == "/api/v1/athlete/i42/activities"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"API_KEY:" + KEY.encode()).decode()
    parts = _form_file(headers, body)
    filename, data = parts["file"]
    assert filename.endswith(".fit")
    (tmp_path / "got.fit").write_bytes(data)
    with fitdecode.FitReader(str(tmp_path / "got.fit"), check_crc=fitdecode.CrcCheck.RAISE) as fit:
        laps = [f for f in fit if isinstance(f, fitdecode.FitDataMessage) and f.name == "lap"]
    assert len(laps) == 17


def test_saved_key_is_private_and_used_with_the_keys_own_athlete(server, session_dir, monkeypatch, capsys):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert cli.main(["upload", "--save-key"]) == 0
    path = upload.key_path()
    assert os.stat(path).st_mode & 0o777 == 0o600 and KEY in path.read_text()
    assert cli.main(["upload", str(session_dir)]) == 0
    ((path, headers, _body),) = server.seen
    assert path == "/api/v1/athlete/0/activities"
    assert base64.b64decode(headers["Authorization"].split()[1]) == b"API_KEY:" + KEY.encode()


def test_a_refused_key_is_one_clear_line(server, session_dir, monkeypatch, capsys):
    monkeypatch.setenv("INTERVALS_ICU_API_KEY", "wrong")
    server.status = 403
    with pytest.raises(SystemExit) as e:
        cli.main(["upload", str(session_dir)])
    assert "refused the API key (HTTP 403)" in str(e.value)


def test_no_key_says_how_to_give_one(server, session_dir, capsys):
    assert cli.main(["upload", str(session_dir)]) == 1
    assert "--save-key" in capsys.readouterr().err and server.seen == []


def test_an_unreachable_server_is_named(server, session_dir, monkeypatch):
    monkeypatch.setenv("INTERVALS_ICU_API_KEY", KEY)
    monkeypatch.setenv("SPRINTWATCH_INTERVALS_URL", "http://127.0.0.1:9")   # discard port: refused
    with pytest.raises(SystemExit) as e:
        cli.main(["upload", str(session_dir)])
    assert "cannot reach http://127.0.0.1:9" in str(e.value)
