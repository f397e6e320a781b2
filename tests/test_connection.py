"""connect(): local backend by default (started if needed), a real account on request."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from course.backend.process import Backend, running_backend, stop_shared_backend
from course.connection import (
    ConnectionProblem,
    connect,
    learner_prefix,
    name,
    scrubbed_environment,
)

from tests.conftest import make_client


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A process environment with no AWS settings and its own state folder for the backend;
    afterwards the environment is as it was, whatever connect() set (COURSE_PREFIX...): another
    test in this process must not inherit a real-account connection."""
    saved = dict(os.environ)
    for variable in list(os.environ):
        if variable.startswith(("AWS_", "COURSE_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield tmp_path
    stop_shared_backend()
    boto3.DEFAULT_SESSION = None  # connect() made one for its environment, gone now
    os.environ.clear()
    os.environ.update(saved)


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


@pytest.fixture
def other_endpoint(backend: Backend) -> str:
    """An AWS-compatible endpoint of the user's own (the session's backend, reached as any
    emulator is: by ``AWS_ENDPOINT_URL`` alone)."""
    return backend.url


def _use_own_endpoint(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator-secret")


def test_an_endpoint_the_user_set_is_kept_and_shown(
    clean_env: Path,
    backend: Backend,
    other_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LocalStack or another emulator: connect("aws") sends the calls where the user said."""
    _use_own_endpoint(other_endpoint, monkeypatch)
    conn = connect("aws")
    out = capsys.readouterr().out
    assert os.environ["AWS_ENDPOINT_URL"] == other_endpoint
    assert f"AWS_ENDPOINT_URL={other_endpoint}" in out
    assert not conn.is_local and "COURSE_ENDPOINT" not in os.environ
    boto3.client("sqs").create_queue(QueueName=conn.name("via-own-endpoint"))
    urls = make_client(backend, "sqs").list_queues()["QueueUrls"]
    assert any(u.endswith(f"/{conn.prefix}via-own-endpoint") for u in urls)


def test_switching_from_local_to_aws_forgets_only_the_kits_own_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(quiet=True)
    assert os.environ["AWS_ENDPOINT_URL"] == os.environ["COURSE_ENDPOINT"]
    with pytest.raises(ConnectionProblem, match="configure credentials"):
        connect("aws", quiet=True)  # the kit's endpoint and its "testing" keys are gone
    assert "AWS_ENDPOINT_URL" not in os.environ and "AWS_ACCESS_KEY_ID" not in os.environ


@pytest.mark.parametrize(
    ("arn", "prefix"),
    [
        ("arn:aws:iam::123456789012:user/Ana.Le", "ana-le-"),
        ("arn:aws:iam::123456789012:user/division/team/binh", "binh-"),
        ("arn:aws:sts::123456789012:assumed-role/Students/chi@uni.edu.vn", "chi-uni-edu-vn-"),
        ("arn:aws:iam::123456789012:root", "course-"),
        ("arn:aws:iam::123456789012:user/a-very-long-user-name-indeed", "a-very-long-user-"),
    ],
)
def test_the_prefix_comes_from_the_callers_name(arn: str, prefix: str) -> None:
    assert learner_prefix(arn) == prefix


def test_a_real_account_gets_the_prefix_and_the_course_tag(
    clean_env: Path, other_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_own_endpoint(other_endpoint, monkeypatch)
    conn = connect("aws", quiet=True)
    assert conn.prefix == "moto-" and os.environ["COURSE_PREFIX"] == "moto-"
    assert name("lab-standard-queue") == "moto-lab-standard-queue"
    sqs, sns, iam = (boto3.client(s) for s in ("sqs", "sns", "iam"))
    url = sqs.create_queue(QueueName=name("tagged"), tags={"team": "a"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "course": "moto"}
    topic = sns.create_topic(Name=name("tagged"))["TopicArn"]
    assert {"Key": "course", "Value": "moto"} in sns.list_tags_for_resource(ResourceArn=topic)[
        "Tags"
    ]
    iam.create_role(RoleName=name("tagged"), AssumeRolePolicyDocument="{}", Tags=[])
    role_tags = iam.list_role_tags(RoleName=name("tagged"))["Tags"]
    assert role_tags == [{"Key": "course", "Value": "moto"}]
    # a tag the call sets itself with the key "course" is kept as it is
    url = sqs.create_queue(QueueName=name("own-tag"), tags={"course": "mine"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"course": "mine"}


def test_an_empty_prefix_is_the_users_choice(
    clean_env: Path, other_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_own_endpoint(other_endpoint, monkeypatch)
    monkeypatch.setenv("COURSE_PREFIX", "")
    assert connect("aws", quiet=True).name("q") == "q"


def test_the_local_backend_keeps_plain_names_and_no_tag(clean_env: Path) -> None:
    conn = connect(quiet=True)
    assert conn.prefix == "" and name("lab-standard-queue") == "lab-standard-queue"
    url = boto3.client("sqs").create_queue(QueueName="untagged")["QueueUrl"]
    assert boto3.client("sqs").list_queue_tags(QueueUrl=url).get("Tags", {}) == {}
