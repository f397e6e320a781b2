"""The cells of the attack notebooks that ``test_grading_attacks.py`` grades.

Each attack is a lab 01 notebook: a first cell that does some of the lab's own work (so the
attacker has something to be graded on), the attack, then more of the lab's work (so the test
sees that grading went on after it). An attack reports what it found as one line per cell,
``RESULT {json}``; ``Targets`` carries what it aims at (the grader's pid, the output folder, a
secret file...), written into the cells' source as literals.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

RESULT = "RESULT "

SETUP = """import json, os
import boto3

def report(**found):
    print("RESULT " + json.dumps(found, default=str))

sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName="lab-standard-queue")["QueueUrl"]"""

SEND = """for i in range(3):
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": str(i), "age": i}))"""


@dataclass(frozen=True)
class Targets:
    """What the attacks aim at, all outside the sandbox (none of it under /tmp)."""

    grader_pid: int
    out_dir: str
    secret_file: str  # a credentials file, as the instructor's ~/.aws/credentials
    secret_text: str  # its content
    secret_json: str  # a JSON file with the secret in it, in Lambda's error-document shape
    other_notebook: str  # another student's submission
    marker: str  # put in the argv of every process an attack leaves behind
    heartbeat: str  # where a daemon left behind would write, outside the sandbox
    foreign_port: int  # a backend on this machine that is not the submission's
    foreign_gate: str  # that backend's gate socket
    abstract_socket: str  # an abstract Unix socket the test listens on
    victim_dir: str  # a folder of files named like the kernel's ipc sockets


def fill(source: str, targets: Targets) -> str:
    """``source`` with each ``T.name`` replaced by the literal value of ``targets.name``, and
    ``HANDLER_SOURCE`` by the attacking Lambda handler's source (its targets filled in)."""
    source = re.sub(r"\bT\.(\w+)\b", lambda m: repr(getattr(targets, m.group(1))), source)
    if "HANDLER_SOURCE" in source:
        source = source.replace("HANDLER_SOURCE", repr(fill(LAMBDA_HANDLER, targets)))
    return source


def notebook(path: Path, cells: list[str], targets: Targets) -> Path:
    """Write a lab 01 notebook of these code cells, the targets filled in."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(fill(c, targets)) for c in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "course": {"lab": "01"},
        },
    )
    nbformat.write(nb, path)
    return path


def reported(nb: Any) -> dict[str, Any]:
    """Everything the executed notebook's cells reported, merged."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(RESULT):
                    found.update(json.loads(line[len(RESULT) :]))
    return found


def printed(nb: Any) -> str:
    """All of the executed notebook's outputs, as text."""
    return json.dumps([cell.get("outputs", []) for cell in nb.cells])


# -------------------------------------------------------------------------------- attacks

KILL = """import glob, signal, time
seen = {"parent": os.getppid(), "grader": T.grader_pid}
for path in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        argv = open(path, "rb").read().split(b"\\0")
    except OSError:
        continue
    if b"course.backend.server" in argv and str(T.grader_pid).encode() in argv:
        seen["backend " + path.split("/")[2]] = int(path.split("/")[2])
sent = {}
for name, pid in seen.items():
    try:
        os.kill(pid, signal.SIGKILL)
        sent[name] = "sent"
    except OSError as e:
        sent[name] = type(e).__name__
time.sleep(1)
report(kill=sent, parent=os.getppid())"""

STEAL_TOKEN = """import glob, urllib.request
readable, tokens = 0, []
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        env = open(path, "rb").read().split(b"\\0")
    except OSError:
        continue
    readable += 1
    tokens += [v.split(b"=", 1)[1].decode() for v in env if v.startswith(b"COURSE_ADMIN_TOKEN=")]
resets = []
for token in set(tokens):
    request = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/_course/reset", data=b"", method="POST",
        headers={"X-Course-Admin": token},
    )
    try:
        resets.append(urllib.request.urlopen(request).status)
    except Exception as e:
        resets.append(repr(e))
report(environ_files=readable, tokens=len(tokens), resets=resets)"""

OUT_FOLDER = """found = {}
def attempt(name, action):
    try:
        found[name] = action()
    except OSError as e:
        found[name] = type(e).__name__
def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return "written"
attempt("list", lambda: os.listdir(T.out_dir))
attempt("write", lambda: write(os.path.join(T.out_dir, "fake.json"), '{"score": 1000}'))
attempt("tamper", lambda: write(T.other_notebook, "{}"))
report(out=found)"""

READ_SECRETS = """import glob
found = {}
for name, path in [("credentials", T.secret_file), ("notebook", T.other_notebook),
                   ("root-aws", "/root/.aws/credentials")]:
    try:
        found[name] = open(path).read()
    except OSError as e:
        found[name] = type(e).__name__
host = glob.glob("/tmp/course-grade-*/*") + glob.glob("/tmp/course-backend-*/*")
host += glob.glob("/tmp/course-slot-*/*") + glob.glob("/tmp/pytest-of-*/*")
report(secrets=found, host_tmp=host)"""

LEAVE_PROCESSES = """import subprocess, sys
subprocess.Popen(["sleep", T.marker], start_new_session=True)
daemon = '''import os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
for _ in range(600):
    try:
        with open(sys.argv[2], "a") as f:
            f.write(".")
    except OSError:
        pass
    time.sleep(0.2)
'''
subprocess.run([sys.executable, "-c", daemon, T.marker, T.heartbeat], check=True)
report(left="sleep and a daemon")"""

NETWORK = """import socket, time
def reach(address, family=socket.AF_INET):
    started = time.monotonic()
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(address)
        s.close()
        return "connected"
    except OSError as e:
        return f"{type(e).__name__} in {time.monotonic() - started:.2f} s"
own = int(os.environ["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
found = {"own": reach(("127.0.0.1", own))}
for port in (T.foreign_port, 22, 80, 5000, 8888):
    found[f"loopback {port}"] = reach(("127.0.0.1", port))
for host in ("10.0.0.1", "8.8.8.8", "169.254.169.254"):
    found[host] = reach((host, 80))
found["foreign gate"] = reach(T.foreign_gate, socket.AF_UNIX)
found["abstract"] = reach("\\0" + T.abstract_socket, socket.AF_UNIX)
try:
    socket.getaddrinfo("example.com", 80)
    found["dns"] = "resolved"
except OSError as e:
    found["dns"] = type(e).__name__
gate = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
gate.settimeout(5)
gate.connect("/run/course/gate.sock")
gate.sendall(f"{T.foreign_port}\\n".encode() + b"GET /_course/health HTTP/1.0\\r\\n\\r\\n")
try:
    found["gate to foreign"] = gate.recv(100).decode() or "closed"
except OSError as e:
    found["gate to foreign"] = type(e).__name__
report(network=found)"""

CLOSE_CHANNELS = """kernel = get_ipython().kernel
kernel.iopub_socket.close()
kernel.shell_stream.close()"""

LAMBDA_HANDLER = """import glob, json, os, signal, socket, subprocess, sys

def attempt(action):
    try:
        return action()
    except OSError as e:
        return type(e).__name__

def write(path):
    with open(path, "w") as f:
        f.write("{}")
    return "written"

def fork(count):
    made = 0
    try:
        for _ in range(count):
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", T.marker])
            made += 1
    except OSError as e:
        return f"{made} then {type(e).__name__}"
    return made

def lambda_handler(event, context):
    if event.get("symlink"):
        spec = open("/proc/self/cmdline", "rb").read().split(b"\\0")[-2].decode()
        os.symlink(T.secret_json, json.load(open(spec))["result_path"])
        sys.stdout.flush()
        os._exit(0)
    if event.get("fork"):
        return {"forks": fork(event["fork"])}
    tokens = 0
    for path in glob.glob("/proc/[0-9]*/environ"):
        tokens += b"COURSE_ADMIN_TOKEN=" in (attempt(lambda: open(path, "rb").read()) or b"")
    subprocess.Popen(["sleep", T.marker], start_new_session=True)
    return {
        "credentials": attempt(lambda: open(T.secret_file).read()),
        "notebook": attempt(lambda: open(T.other_notebook).read()),
        "tokens": tokens,
        "kill grader": attempt(lambda: os.kill(T.grader_pid, signal.SIGKILL) or "sent"),
        "kill parent": attempt(lambda: os.kill(os.getppid(), signal.SIGKILL) or "sent"),
        "out": attempt(lambda: write(os.path.join(T.out_dir, "fake-lambda.json"))),
        "foreign": attempt(lambda: socket.create_connection(("127.0.0.1", T.foreign_port), 1)
                           and "connected"),
    }
"""

LAMBDA_SETUP = """import io, zipfile
iam = boto3.client("iam")
lam = boto3.client("lambda")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}
role = iam.create_role(RoleName="attacker", AssumeRolePolicyDocument=json.dumps(trust))
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as archive:
    archive.writestr("lambda_function.py", HANDLER)
lam.create_function(
    FunctionName="attacker", Runtime="python3.12", Role=role["Role"]["Arn"], Timeout=20,
    Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()},
)
def invoke(event):
    answer = lam.invoke(FunctionName="attacker", Payload=json.dumps(event))
    return json.loads(answer["Payload"].read())"""


def lambda_cells(**events: str) -> list[str]:
    """Cells that deploy the attacking handler, then one per event: ``report(name=invoke(event))``."""
    deploy = "HANDLER = HANDLER_SOURCE\n" + LAMBDA_SETUP
    return [SETUP, deploy, *(f"report({name}=invoke({e}))" for name, e in events.items()), SEND]


ATTACKS: dict[str, list[str]] = {
    "kill": [SETUP, KILL, SEND],
    "token": [SETUP, STEAL_TOKEN, SEND],
    "out-folder": [SETUP, OUT_FOLDER, SEND],
    "secrets": [SETUP, READ_SECRETS, SEND],
    "leftovers": [SETUP, LEAVE_PROCESSES, SEND],
    "network": [SETUP, NETWORK, SEND],
    "channels": [SETUP, CLOSE_CHANNELS, SEND],
    "lambda": lambda_cells(
        probe='{"probe": True}', fork='{"fork": 200}', symlink='{"symlink": True}'
    ),
}

# ------------------------------------------------------------------ attacks on the caps

SIX_GIB = """try:
    hog = bytearray(6 << 30)
    report(six_gib="allocated")
    del hog
except MemoryError:
    report(six_gib="MemoryError")"""

MEMORY = """hog = []
try:
    while len(hog) < 100:
        hog.append(b"x" * (64 << 20))
finally:
    report(memory_mib=64 * len(hog))
    hog.clear()"""

FILL_DISK = """import glob
written = 0
try:
    for folder in ("/tmp", os.path.expanduser("~")):
        for i in range(13):
            with open(f"{folder}/fill-{i}", "wb") as f:
                f.write(b"x" * (4 << 20))
            written += 4
finally:
    report(disk_mib=written)
    for path in glob.glob("/tmp/fill-*") + glob.glob(os.path.expanduser("~/fill-*")):
        os.remove(path)"""

WRITE_OUTSIDE = """import sys
import course
found = {}
for path in ("/usr/attack", course.__file__, os.path.join(sys.prefix, "attack"), T.secret_file):
    try:
        with open(path, "a") as f:
            f.write("attack")
        found[path] = "written"
    except OSError as e:
        found[path] = type(e).__name__
report(outside=found)"""

FILL_ELSEWHERE = """found = {}
for folder in ("/", "/etc", "/work", "/run", "/dev/shm", "/home", "/root"):
    written = 0
    try:
        for i in range(6):
            with open(f"{folder}/fill-{i}", "wb") as f:
                f.write(b"x" * (4 << 20))
            written += 4
        found[folder] = written
    except OSError:
        found[folder] = written
    finally:
        for i in range(6):
            try:
                os.remove(f"{folder}/fill-{i}")
            except OSError:
                pass
report(elsewhere_mib=found)"""

FILE_SIZE = """try:
    with open("/tmp/big", "wb") as f:
        f.write(b"x" * (12 << 20))
finally:
    report(file_size=os.path.getsize("/tmp/big"))
    os.remove("/tmp/big")"""

FORK_BOMB = """children = 0
try:
    for _ in range(300):
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", T.marker])
        children += 1
finally:
    report(children=children)"""

BUSY = """while True:
    pass"""

BUSY_IGNORING_SIGXCPU = """import signal
signal.signal(signal.SIGXCPU, signal.SIG_IGN)
while True:
    pass"""

#: Attacks on the caps, graded under small limits (``test_grading_attacks.TIGHT``).
CAP_ATTACKS: dict[str, list[str]] = {
    "memory": [SETUP, SIX_GIB, MEMORY, SEND],
    "disk": [SETUP, FILL_DISK, WRITE_OUTSIDE, SEND],
    "disk-elsewhere": [SETUP, FILL_ELSEWHERE, SEND],
    "file-size": [SETUP, FILE_SIZE, SEND],
    "fork-bomb": [SETUP, FORK_BOMB, SEND],
    "cpu": [SETUP, BUSY, SEND],
    "cpu-ignoring-sigxcpu": [SETUP, BUSY_IGNORING_SIGXCPU, SEND],
}
