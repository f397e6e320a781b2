"""``course start --lang vi``: JupyterLab on ``labs/vi/``, its kernels told ``COURSE_LANG=vi``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.i18n.conftest import ROOT
from tests.test_cli import _lab_api, course_env, end_course, start_course


def environ_of(pid: int) -> dict[str, str]:
    """The environment a process was started with (its kernels inherit it)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.slow
@pytest.mark.parametrize(("args", "lang"), [(["--lang", "vi"], "vi"), ([], "vi")])
def test_course_start_opens_the_labs_of_its_language(
    tmp_path: Path, args: list[str], lang: str
) -> None:
    env = course_env(tmp_path)
    if not args:  # the language from COURSE_LANG
        env["COURSE_LANG"] = lang
    run = start_course(env, *args)
    try:
        assert f"Starting JupyterLab on {ROOT / 'labs' / lang}" in run.output()
        names = {item["name"] for item in _lab_api(run.url, "contents")["content"]}
        assert "01-sqs-basics.ipynb" in names and "vi" not in names  # inside labs/vi/
        pid = json.loads((tmp_path / "state" / "jupyterlab.json").read_text())["pid"]
        assert environ_of(pid)["COURSE_LANG"] == lang
    finally:
        end_course(run.process, env)
