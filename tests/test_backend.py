"""The local backend is a real server process: start, health, reset, clock, isolation, stop."""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from course.backend.process import Backend, BackendError

from .conftest import make_client


def test_start_answers_over_http_and_stop_ends_the_process() -> None:
    backend = Backend.start()
    try:
        assert backend.healthy()
        sqs = make_client(backend, "sqs")
        assert sqs.list_queues().get("QueueUrls", []) == []
    finally:
        backend.stop()
    assert backend.process is not None and backend.process.poll() is not None
    assert not backend.healthy(timeout=0.5)
    assert backend.workdir is not None and not backend.workdir.exists()


def test_a_backend_with_the_callers_log_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(**kwargs: str) -> str:
        made.append(Path(real_mkdtemp(**kwargs)))
        return str(made[-1])

    monkeypatch.setattr("course.backend.process.tempfile.mkdtemp", recording_mkdtemp)
    with Backend.start(log_path=tmp_path / "backend.log") as backend:
        assert backend.workdir is None
        assert len(made) == 1 and not made[0].exists()
    assert (tmp_path / "backend.log").exists()


def test_reset_wipes_resources_and_flow(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    sqs.create_queue(QueueName="gone-after-reset")
    assert backend.flow()["calls"]
    backend.reset()
    assert sqs.list_queues().get("QueueUrls", []) == []
    # the list_queues above is the only call recorded since the reset
    assert [c["action"] for c in backend.flow()["calls"]] == ["ListQueues"]


def test_two_backends_are_isolated() -> None:
    with Backend.start() as first, Backend.start() as second:
        make_client(first, "sqs").create_queue(QueueName="only-in-first")
        assert make_client(second, "sqs").list_queues().get("QueueUrls", []) == []
        assert not second.flow()["calls"][:-1]  # only its own ListQueues
        assert [c["action"] for c in first.flow()["calls"]] == ["CreateQueue"]


@pytest.mark.parametrize(
    "path", ["/_course/reset", "/_course/shutdown", "/_course/clock?advance=60", "/moto-api/reset"]
)
def test_admin_endpoints_refuse_requests_without_the_token(backend: Backend, path: str) -> None:
    request = urllib.request.Request(backend.url + path, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 403
    assert backend.healthy()


def test_advancing_the_clock_expires_a_visibility_timeout(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="clocked", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="job")
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    backend.advance_clock(601)
    again = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_backend_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("course.backend.process.sys.executable", "/bin/false")
    with pytest.raises(BackendError, match="exited with code 1"):
        Backend.start()
