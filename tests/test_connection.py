"""connect(): local backend by default (started if needed), a real account on request."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from course.backend.process import running_backend, stop_shared_backend
from course.connection import ConnectionProblem, connect, scrubbed_environment


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A process environment with no AWS settings and its own state folder for the backend."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "COURSE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield tmp_path
    stop_shared_backend()


def test_local_is_the_default_and_starts_a_backend(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = connect()
    out = capsys.readouterr().out
    assert conn.is_local and conn.account_id == "123456789012" and conn.region == "us-east-1"
    assert f"local backend at {conn.endpoint_url}" in out
    assert "123456789012" in out and "us-east-1" in out
    # plain boto3 in a later cell reaches the same backend
    boto3.client("sqs").create_queue(QueueName="made-by-plain-boto3")
    assert running_backend() is not None
    queues = conn.client("sqs").list_queues()["QueueUrls"]
    assert queues[0].endswith("/made-by-plain-boto3")


def test_a_second_connect_reuses_the_running_backend(clean_env: Path) -> None:
    first = connect(quiet=True)
    os.environ.pop("COURSE_ENDPOINT")
    second = connect(quiet=True)
    assert first.endpoint_url == second.endpoint_url


def test_a_real_account_without_credentials_says_what_to_do(clean_env: Path) -> None:
    with pytest.raises(ConnectionProblem, match="configure credentials"):
        connect("aws", quiet=True)
    assert "AWS_ENDPOINT_URL" not in os.environ


def test_an_unknown_backend_is_refused(clean_env: Path) -> None:
    with pytest.raises(ValueError, match="'local' or 'aws'"):
        connect("localstack")


def test_the_graded_environment_keeps_no_instructor_secrets() -> None:
    env = scrubbed_environment(
        {
            "AWS_SECRET_ACCESS_KEY": "real",
            "AWS_PROFILE": "prod",
            "COURSE_BACKEND": "aws",
            "HOME": "/h",
        },
        "http://127.0.0.1:9",
    )
    assert env["AWS_SECRET_ACCESS_KEY"] == "testing" and "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9" and env["COURSE_BACKEND"] == "local"
    assert env["HOME"] == "/h"
