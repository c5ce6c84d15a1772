"""The dashboard's JSON API and its server: same trials as `hpsweep report`, read-only, no way out
of the study folder, no exposure beyond loopback without a token."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpsweep.cli.main import main
from hpsweep.dashboard import Dashboard, DashboardServer, export_html, is_loopback
from hpsweep.errors import StudyError, UsageError
from hpsweep.results import trial_value


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"
         ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def server(synthetic_study: Path) -> Iterator[DashboardServer]:
    srv = DashboardServer(app=Dashboard(studies=[synthetic_study]), port=0).start()
    yield srv
    srv.close()


def _report_json(study: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["report", str(study), "--format", "json", "--all"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's list of trial rows, whatever the key it sits under."""
    lists = [v for v in payload.values()
             if isinstance(v, list) and v and isinstance(v[0], dict) and "trial_id" in v[0]]
    assert len(lists) == 1, f"no single list of trials in the report: {list(payload)}"
    return list(lists[0])


@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_trials_match_report_json(which: str, synthetic_study: Path, request: pytest.FixtureRequest,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    study = synthetic_study if which == "synthetic" else request.getfixturevalue("real_study")
    rows = _rows(_report_json(study, capsys))
    answer = json.loads(Dashboard(studies=[study]).get("/api/studies/0/trials").body)
    assert answer["ranked"] == json.loads(json.dumps(rows))
    by_id = {t["trial_id"]: t for t in answer["trials"]}
    assert sorted(by_id) == sorted(r["trial_id"] for r in rows)
    for row in rows:
        trial = by_id[row["trial_id"]]
        assert trial["state"] == row["state"]
        for name, value in trial["config"].items():
            assert row[name] == value
        if row.get("loss") is not None:
            assert trial["value"] == pytest.approx(row["loss"])
    bundle = json.loads(Dashboard(studies=[study]).get("/api/studies/0").body)
    assert [t["trial_id"] for t in bundle["trials"]] == sorted(by_id)
    assert bundle["summary"]["counts"] == _report_json(study, capsys)["counts"]


def test_real_study_values_come_from_the_store(real_study: Path) -> None:
    from hpsweep.results import load_study_data

    data = load_study_data(real_study)
    trials = json.loads(Dashboard(studies=[real_study]).get("/api/studies/0/trials").body)["trials"]
    assert len(trials) == len(data.trials) == 8
    for record, shown in zip(data.trials, trials):
        assert shown["value"] == trial_value(record, "loss")
        assert len(shown["reports"]) == len(record.reports)
    states = {t["state"] for t in trials}
    assert "stopped" in states and "completed" in states


@pytest.mark.parametrize("path", [
    "../sweep.json", "../../etc/passwd", "/etc/passwd", "trials/../../outside.txt",
    "trials/0000/../../../outside.txt", "link-out/secret.txt",
])
def test_file_endpoint_refuses_paths_outside_the_study(path: str, synthetic_study: Path) -> None:
    outside = synthetic_study.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("CONTENT-OF-A-PRIVATE-FILE")
    (synthetic_study.parent / "outside.txt").write_text("CONTENT-OF-A-PRIVATE-FILE")
    os.symlink(outside, synthetic_study / "link-out")
    response = Dashboard(studies=[synthetic_study]).get("/api/studies/0/file", {"path": [path]})
    assert response.status == 403, response.body
    assert b"CONTENT-OF-A-PRIVATE-FILE" not in response.body


def test_traversal_over_http_is_refused(server: DashboardServer) -> None:
    for path in ("..%2F..%2Fetc%2Fpasswd", "%2e%2e/sweep.json", "%2Fetc%2Fpasswd"):
        status, _, body = _get(server.url + "api/studies/0/file?path=" + path)
        assert status == 403, (path, body)
    status, _, body = _get(server.url + "static/..%2F..%2F_app.py")
    assert status == 404 and b"import" not in body
    status, _, body = _get(server.url + "api/studies/0/file?tail=30&path=trials/0000/stdout.log")
    assert status == 200
    answer = json.loads(body)
    assert answer["text"].endswith("line 199\n") and len(answer["text"]) == 30
    assert answer["size"] == sum(len(f"line {i}\n") for i in range(200))


def test_non_local_bind_without_token_is_refused(synthetic_study: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HPSWEEP_DASHBOARD_TOKEN", raising=False)
    app = Dashboard(studies=[synthetic_study])
    with pytest.raises(UsageError, match="--token"):
        DashboardServer(app=app, host="0.0.0.0", port=0)
    assert main(["dashboard", str(synthetic_study), "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--token" in capsys.readouterr().err
    with pytest.raises(UsageError, match="too short"):
        DashboardServer(app=app, host="0.0.0.0", port=0, token="abc")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True),
    ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False), ("", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_is_checked_on_every_request(synthetic_study: Path) -> None:
    srv = DashboardServer(app=Dashboard(studies=[synthetic_study]), port=0,
                          token="s3cret-token").start()
    base = f"http://127.0.0.1:{srv.port}/"
    try:
        for path in ("", "api/studies", "static/app.js", "api/studies/0/file?path=sweep.json"):
            assert _get(base + path)[0] == 401
        assert _get(base + "api/studies?token=wrong-token")[0] == 401
        assert _get(base + "api/studies", {"Authorization": "Bearer wrong"})[0] == 401
        assert _get(base + "api/studies", {"Authorization": "Bearer s3cret-token"})[0] == 200
        status, headers, _ = _get(base + "?token=s3cret-token")
        assert status == 200 and "hpsweep_token=s3cret-token" in headers["Set-Cookie"]
        assert _get(base + "api/studies", {"Cookie": "hpsweep_token=s3cret-token"})[0] == 200
        assert _get(base + "api/studies", {"Cookie": "hpsweep_token=nope"})[0] == 401
        assert srv.url.endswith("?token=s3cret-token")
    finally:
        srv.close()


def _snapshot(folder: Path) -> dict[str, int]:
    """Modification times of the study's files (SQLite's reader files -wal/-shm aside)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_read_only_and_foreign_host_refused(server: DashboardServer, synthetic_study: Path) -> None:
    before = _snapshot(synthetic_study)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert _get(server.url + "api/studies/0", method=method)[0] == 405
    assert _get(server.url + "api/studies", {"Host": "attacker.example:80"})[0] == 403
    assert _get(server.url + "api/studies", {"Host": f"localhost:{server.port}"})[0] == 200
    for path in ("", "api/studies", "api/studies/0", "api/studies/0/importance",
                 "api/studies/0/trials/2", "api/studies/0/events?since=3"):
        assert _get(server.url + path)[0] == 200
    assert _snapshot(synthetic_study) == before


def test_routes(synthetic_study: Path) -> None:
    app = Dashboard(studies=[synthetic_study, synthetic_study])
    studies = json.loads(app.get("/api/studies").body)["studies"]
    assert [s["id"] for s in studies] == ["0", "1"] and studies[0]["name"] == "synthetic"
    events = json.loads(app.get("/api/studies/1/events", {"since": ["10"]}).body)
    assert [e["event_id"] for e in events["events"]] == [11, 12]
    assert events["last"] == 12 and events["live"] is False
    detail = json.loads(app.get("/api/studies/0/trials/3").body)
    assert detail["trial"]["state"] == "failed"
    assert [e["kind"] for e in detail["history"]] == ["start", "end"]
    assert detail["files"] == ["trials/0003/stdout.log", "trials/0003/stderr.log"]
    assert app.get("/api/studies/0/trials/99").status == 404
    assert app.get("/api/studies/2").status == 404
    assert app.get("/api/nothing").status == 404
    assert app.get("/static/evil.js").status == 404
    plotly = app.get("/static/plotly.min.js")
    assert plotly.status == 200 and len(plotly.body) > 1_000_000
    page = app.get("/").body.decode()
    assert "static/plotly.min.js" in page and "http" not in page.split("<body>")[0]


def test_importance_names_the_parameters(synthetic_study: Path) -> None:
    answer = json.loads(Dashboard(studies=[synthetic_study]).get("/api/studies/0/importance").body)
    assert set(answer["params"]) <= {"lr", "opt"}
    if answer["params"]:
        assert sum(answer["params"].values()) == pytest.approx(1.0)
    else:
        assert answer["note"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda root: root / "missing", "does not exist"),
    (lambda root: root, "not an hpsweep study folder"),
])
def test_bad_study_paths_are_clear_errors(make: Any, message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = make(tmp_path)
    with pytest.raises(StudyError, match=message):
        Dashboard(studies=[path])
    assert main(["dashboard", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_export_is_one_self_contained_file(synthetic_study: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.html"
    assert main(["dashboard", str(synthetic_study), "--export", str(target)]) == 0
    assert "opens offline" in capsys.readouterr().out
    html = target.read_text()
    assert re.search(r"<script[^>]*\ssrc=", html) is None
    assert re.search(r"<link[^>]*stylesheet", html) is None
    assert "window.HPSWEEP_EMBED" in html and "Plotly" in html
    start = html.index("window.HPSWEEP_EMBED = ") + len("window.HPSWEEP_EMBED = ")
    embedded = json.loads(html[start:html.index(";</script>", start)])
    answers = embedded["answers"]
    assert {"/api/studies", "/api/studies/0", "/api/studies/0/importance",
            "/api/studies/0/trials/4"} <= set(answers)
    assert len(answers["/api/studies/0"]["trials"]) == 5
    with pytest.raises(UsageError, match=r"\.html"):
        export_html(Dashboard(studies=[synthetic_study]), tmp_path / "report.txt")


def test_answers_follow_the_store_as_the_controller_writes(synthetic_study: Path) -> None:
    from hpsweep.store import Store
    from hpsweep.trial import Report, TrialRecord, TrialState

    app = Dashboard(studies=[synthetic_study])
    app.get("/api/studies/0")  # the first reader may create SQLite's -wal/-shm files
    first = json.loads(app.get("/api/studies/0").body)
    stamp = json.loads(app.get("/api/studies/0/events").body)["stamp"]
    assert json.loads(app.get("/api/studies/0").body) == first  # unchanged store: cached answer
    store = Store.open(synthetic_study / "study.db")
    trial = TrialRecord(trial_id=5, config={"lr": 0.2, "opt": "sgd"}, state=TrialState.RUNNING,
                        created=110.0, worker_id=0, started=110.0)
    store.add_trial(trial)
    store.update_trial(trial, event="start", time=110.0, data={"worker_id": 0})
    store.add_report(Report(5, 1, {"loss": 0.05}, 110.5, 0))
    store.close()
    polled = json.loads(app.get("/api/studies/0/events", {"since": [str(first["summary"]
                                                                         ["last_event"])]}).body)
    assert polled["stamp"] != stamp and [e["kind"] for e in polled["events"]] == ["start"]
    second = json.loads(app.get("/api/studies/0").body)
    assert [t["trial_id"] for t in second["trials"]] == [0, 1, 2, 3, 4, 5]
    assert second["trials"][5]["state"] == "running"
    assert second["trials"][5]["reports"][0]["metrics"] == {"loss": 0.05}


def test_slow_importance_does_not_hold_up_the_study_page(synthetic_study: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from hpsweep.dashboard import _app

    release = threading.Event()

    def slow(data: Any) -> dict[str, Any]:
        release.wait(10)
        return {"params": {}, "n": 0, "note": "slow"}

    monkeypatch.setattr(_app, "importance", slow)
    app = Dashboard(studies=[synthetic_study])
    worker = threading.Thread(target=app.get, args=("/api/studies/0/importance",))
    worker.start()
    try:
        time.sleep(0.2)
        t0 = time.perf_counter()
        assert app.get("/api/studies/0").status == 200
        assert app.get("/api/studies/0/events").status == 200
        assert time.perf_counter() - t0 < 5
    finally:
        release.set()
        worker.join(10)


def test_cli_serves_and_prints_the_url(synthetic_study: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import cli_env

    proc = subprocess.Popen([sys.executable, "-m", "hpsweep", "dashboard", str(synthetic_study),
                             "--port", "0"], env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match is not None, line
        status, _, body = _get(match.group(1) + "api/studies")
        assert status == 200 and json.loads(body)["studies"][0]["n_trials"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_huge_since_is_a_bad_request(server: DashboardServer) -> None:
    status, _, body = _get(server.url + "api/studies/0/events?since=99999999999999999999999")
    assert status == 400 and b"larger than" in body
    assert _get(server.url + "api/studies/0/events?since=9223372036854775807")[0] == 200


def test_the_host_check_applies_with_a_token(synthetic_study: Path) -> None:
    srv = DashboardServer(app=Dashboard(studies=[synthetic_study]), port=0,
                          token="s3cret-token").start()
    base = f"http://127.0.0.1:{srv.port}/api/studies"
    auth = {"Authorization": "Bearer s3cret-token"}
    try:
        assert _get(base, {**auth, "Host": "attacker.example:80"})[0] == 403
        assert _get(base, {**auth, "Host": f"127.0.0.1:{srv.port}"})[0] == 200
        assert _get(base, {**auth, "Host": "10.1.2.3:80"})[0] == 200  # reached by address
    finally:
        srv.close()


def test_a_dropped_client_prints_no_traceback(server: DashboardServer,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for exc in (ConnectionResetError(104, "Connection reset by peer"), BrokenPipeError(32, "x")):
        try:
            raise exc
        except OSError:
            server._httpd.handle_error(None, ("127.0.0.1", 5555))
    assert "Traceback" not in capsys.readouterr().err
