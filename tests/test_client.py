"""The one client of the backend's own API, and the one reader of where calls go.

Every part of the kit outside the backend process reaches ``/_course/`` through
``course.client.BackendClient``, and learns where this process's calls go from
``course.connection.settings()``; these tests pin what each promises against a real backend.
"""

from __future__ import annotations

import pytest
from course.backend.extensions import EXTENSIONS
from course.backend.process import Backend
from course.client import BackendApiError, BackendClient
from course.connection import local_environment, settings

from tests.conftest import make_client


def test_health_reports_the_extensions_in_their_order(backend: Backend) -> None:
    health = BackendClient(backend.url).health()
    assert health["ok"] is True
    assert health["pid"] == backend.pid
    assert health["extensions"] == list(EXTENSIONS)


def test_flow_and_flow_mark_read_the_record(backend: Backend) -> None:
    api = BackendClient(backend.url)
    sqs = make_client(backend, "sqs")
    sqs.create_queue(QueueName="client-one")
    mark = api.flow_mark()
    sqs.create_queue(QueueName="client-two")
    after = api.flow(since=mark)["calls"]
    assert [c["action"] for c in after] == ["CreateQueue"]
    assert after[0]["request"]["QueueName"] == "client-two"
    assert [c["request"]["QueueName"] for c in api.flow()["calls"]] == [
        "client-one",
        "client-two",
    ]


def test_queue_messages_are_none_for_a_queue_that_does_not_exist(backend: Backend) -> None:
    api = BackendClient(backend.url)
    assert api.queue_messages("no-such-queue", "us-east-1") is None
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="held")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="kept")["MessageId"]
    assert [m["MessageId"] for m in api.queue_messages("held", "us-east-1") or []] == [sent]


def test_admin_requests_need_the_token(backend: Backend) -> None:
    with pytest.raises(BackendApiError) as refused:
        BackendClient(backend.url).reset()
    assert refused.value.status in (401, 403)
    assert isinstance(refused.value, OSError)  # "unreachable" and "refused" caught alike
    make_client(backend, "sqs").create_queue(QueueName="before-reset")
    BackendClient(backend.url, backend.admin_token).reset()
    assert make_client(backend, "sqs").list_queues().get("QueueUrls", []) == []


def test_an_unreachable_backend_raises_oserror() -> None:
    with pytest.raises(OSError):
        BackendClient("http://127.0.0.1:9").health(timeout=1)


def test_settings_are_what_connect_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in local_environment("http://127.0.0.1:4999/", "eu-west-1").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COURSE_PREFIX", "an-")
    monkeypatch.setenv("COURSE_LAB", "04")
    found = settings()
    assert found.is_local and found.endpoint_url == "http://127.0.0.1:4999"
    assert (found.region, found.prefix, found.lab) == ("eu-west-1", "an-", "04")
    backend = found.local_backend()
    assert backend is not None and backend.url == "http://127.0.0.1:4999"


@pytest.mark.parametrize(
    "environment",
    [{"COURSE_BACKEND": "aws", "COURSE_ENDPOINT": "http://127.0.0.1:4999"}, {}],
    ids=["real account", "not connected"],
)
def test_no_local_backend_on_a_real_account_or_before_connect(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name in ("COURSE_BACKEND", "COURSE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert settings().local_backend() is None
    assert not settings().is_local
