"""The local backend is a real server process: start, health, reset, clock, isolation, stop;
and its shape: the extensions' order, one accessor to moto's state, AWS errors as boto3 reads them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import botocore.exceptions
import pytest
from course.backend.core import registry
from course.backend.core.errors import ServiceError
from course.backend.core.protocol import Call, parse_response, service_model
from course.backend.extensions import EXTENSIONS
from course.backend.process import Backend, BackendError
from course.backend.ses.exceptions import NotFoundException
from course.backend.sns.exceptions import InvalidParameter
from course.backend.sqs.exceptions import InvalidParameterValue

from tests.conftest import ROOT, make_client

BACKEND = ROOT / "grader" / "course" / "backend"


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


def test_health_reports_exactly_the_extensions_in_their_order(backend: Backend) -> None:
    with urllib.request.urlopen(f"{backend.url}/_course/health", timeout=5) as reply:
        health = json.load(reply)
    assert health["extensions"] == list(EXTENSIONS)


_HOOKS_BY_CALL = """
import json
from course.backend.core import registry
from course.backend.extensions import EXTENSIONS
registry.load_extensions(EXTENSIONS)
print(json.dumps({
    kind: {f"{s} {a}": [f.__module__ for f in fns] for (s, a), fns in hooks.items()}
    for kind, hooks in (("before", registry._before), ("after", registry._after))
}))
"""


def test_hooks_on_one_call_run_in_the_order_of_the_extensions() -> None:
    """Only the modules of ``EXTENSIONS`` hook AWS calls, and the hooks on each call run in the
    list's order (not in the order some other module happened to import them)."""
    done = subprocess.run(
        [sys.executable, "-c", _HOOKS_BY_CALL], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    hooks = json.loads(done.stdout)
    for kind in ("before", "after"):
        for call, modules in hooks[kind].items():
            assert set(modules) <= set(EXTENSIONS), (kind, call, modules)
            places = [EXTENSIONS.index(m) for m in modules]
            assert places == sorted(places), (kind, call, modules)
    hooking = {m for kind in ("before", "after") for ms in hooks[kind].values() for m in ms}
    importers = {
        path.relative_to(BACKEND).as_posix(): sorted(
            hooking & _imported(ast.parse(path.read_text()))
        )
        for path in BACKEND.rglob("*.py")
    }
    assert not {k: v for k, v in importers.items() if v}, "a hooking module is imported"
    # The calls two modules hook, in the order the kit's answers depend on.
    assert hooks["before"]["sqs CreateQueue"] == [
        "course.backend.sqs.fifo",
        "course.backend.sqs.limits",
    ]
    assert hooks["before"]["sns Subscribe"][0] == "course.backend.sns.email"
    assert hooks["before"]["sns Subscribe"][-1] == "course.backend.sns.filter_policies"
    assert hooks["before"]["sns Publish"][0] == "course.backend.sns.topics"


def test_a_call_two_extensions_refuse_gets_the_first_ones_error(backend: Backend) -> None:
    """The order shows on the wire: a ``.fifo`` name without FifoQueue is the FIFO rule's
    refusal before the attribute's range; a bad email endpoint is refused before its filter
    policy is read."""
    sqs = make_client(backend, "sqs")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sqs.create_queue(QueueName="named.fifo", Attributes={"VisibilityTimeout": "99999"})
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "alphanumeric characters" in refused.value.response["Error"]["Message"]
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="ordered")["TopicArn"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sns.subscribe(
            TopicArn=topic,
            Protocol="email",
            Endpoint="not-an-address",
            Attributes={"FilterPolicy": "{not json"},
        )
    assert refused.value.response["Error"]["Message"] == "Invalid parameter: Email address"


@pytest.mark.parametrize(
    ("service", "action", "refused"),
    [
        ("sqs", "CreateQueue", InvalidParameterValue("too long")),  # AWS JSON
        ("sns", "Subscribe", InvalidParameter("Invalid parameter: Email address")),  # query
        ("sesv2", "GetEmailIdentity", NotFoundException("Email identity x does not exist.")),
    ],
)
def test_a_raised_service_error_is_the_aws_error_boto3_reads(
    service: str, action: str, refused: ServiceError
) -> None:
    """Whatever the wire protocol, a hook's ``ServiceError`` reaches boto3 as its code, its
    message and its HTTP status."""
    model = service_model(service)
    call = Call(service, action, "us-east-1", model.protocol, {}, model.operation_model(action))
    reply = registry.error_reply(call, refused)
    parsed = parse_response(call, reply.status, reply.header_dict, reply.body)
    assert reply.status == refused.status
    assert parsed["Error"]["Code"] == refused.code
    assert parsed["Error"]["Message"] == refused.message


def _imported(tree: ast.Module) -> set[str]:
    """The modules a source imports (``from a.b import c`` counts ``a.b`` and ``a.b.c``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _moto_imports(tree: ast.Module) -> list[str]:
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moto")
        for alias in node.names
    ]


def test_only_the_accessor_fetches_moto_s_backends() -> None:
    """``core/moto_state.py`` is the one module that fetches moto's backend objects; the
    others may import moto's types and exceptions only."""
    fetching = {
        path.relative_to(BACKEND).as_posix()
        for path in BACKEND.rglob("*.py")
        if any(
            name.endswith(("_backends", "_backend"))
            for name in _moto_imports(ast.parse(path.read_text()))
        )
    }
    assert fetching == {"core/moto_state.py"}
