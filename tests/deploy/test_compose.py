"""deploy/compose.yaml, checked without a container engine: interpolated as Compose does, then
validated against the Compose Specification's schema (compose-spec.md), then read for the
topology the deploy README describes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings

from tests.deploy.conftest import DEPLOY

SCHEMA = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
)
APP_SERVICES = {"migrate", "web", "worker"}


class Unset(Exception):
    pass


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation: ${NAME}, ${NAME:-default}, ${NAME-default},
    ${NAME:?error}, ${NAME?error}, ${NAME:+other}, ${NAME+other}, and $$ for a dollar."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group() == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        present = name in env
        filled = present and env[name] != ""
        if op in (":-", "-"):
            return env[name] if (filled if op == ":-" else present) else arg
        if op in (":?", "?"):
            if not (filled if op == ":?" else present):
                raise Unset(f"{name}: {arg}")
            return env[name]
        if op in (":+", "+"):
            return arg if (filled if op == ":+" else present) else ""
        return env.get(name, "")

    return VARIABLE.sub(substitute, value)


def env_file(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def load(env: dict[str, str]) -> dict:
    return interpolate(yaml.safe_load((DEPLOY / "compose.yaml").read_text()), env)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load(env_file(DEPLOY / ".env.example"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_the_compose_file_is_valid_under_the_compose_specification(compose):
    jsonschema.Draft7Validator(SCHEMA).validate(compose)


def test_the_schema_check_is_not_vacuous(compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["healthcheck"]["interval"] = ["15s"]
    broken["services"]["worker"]["deploy"]["replica"] = 3
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))
    assert len(errors) == 2


def test_the_public_name_must_be_set():
    env = env_file(DEPLOY / ".env.example")
    del env["SERVER_NAME"]
    with pytest.raises(Unset, match=r"set SERVER_NAME in deploy/\.env"):
        load(env)


def test_only_the_proxy_publishes_ports_or_reaches_outside(compose, services):
    assert {name for name, s in services.items() if "ports" in s} == {"proxy"}
    outside = {name for name, n in compose["networks"].items() if not n.get("internal")}
    assert outside == {"edge"}
    assert {name for name, s in services.items() if "edge" in s["networks"]} == {"proxy"}
    assert set(services["web"]["networks"]) == {"frontend", "backend"}


def test_secrets_come_from_files_never_from_the_compose_file(compose, services):
    for secret in compose["secrets"].values():
        assert set(secret) == {"file"} and secret["file"].startswith("secrets/")
    for name, service in services.items():
        mounted = set(service.get("secrets", []))
        for key, value in service.get("environment", {}).items():
            if key.endswith("_FILE"):
                assert value.removeprefix("/run/secrets/") in mounted, (name, key)
            else:
                assert not re.search(r"PASSWORD|SECRET|TOKEN$|_KEY$", key), (name, key)
            assert not re.search(r"://[^/@]*:[^/@]*@", str(value)), f"a password in {key}"
    assert (DEPLOY / ".gitignore").read_text().count("/secrets/") == 1


def test_third_party_images_are_pinned(services):
    for name, service in services.items():
        if "build" in service:
            continue
        assert re.search(r":v?\d[\w.-]*$", service["image"]), name


def test_the_database(services):
    db = services["db"]
    assert db["image"].startswith("pgvector/pgvector:0.8")
    assert "pgdata:/var/lib/postgresql" in db["volumes"]
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    script = DEPLOY / "postgres" / "initdb" / "10-roles.sh"
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    for role in ("qa_owner", "qa_app"):
        assert f"CREATE ROLE {role} LOGIN" in script.read_text()


def test_migrations_run_once_as_the_owner_before_the_site_and_workers(services):
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert "manage.py migrate --no-input" in migrate["command"][-1]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith("postgres://qa_owner@")
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://qa_app@")
        assert "DATABASE_OWNER_URL" not in services[name]["environment"]
        assert "db_owner_password" not in services[name]["secrets"]


def test_the_site_runs_under_gunicorn_and_is_checked_for_readiness(services):
    web = services["web"]
    assert web["command"] == ["gunicorn", "--config", "deploy/gunicorn.conf.py", "config.wsgi"]
    assert "/readyz" in web["healthcheck"]["test"][-1]
    assert web["environment"]["HTTPS"] == "1"
    assert web["environment"]["TRUSTED_PROXIES"] == "1"
    assert services["proxy"]["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_several_workers_take_jobs(services):
    worker = services["worker"]
    assert worker["command"][:3] == ["python", "manage.py", "db_worker"]
    assert int(worker["deploy"]["replicas"]) >= 2


@pytest.mark.parametrize("name", ["tgi", "vllm"])
def test_the_inference_servers_reserve_a_gpu_and_load_the_adapters(services, name):
    server = services[name]
    (device,) = server["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert server["shm_size"] == "1gb"
    assert server["env_file"][0] == "adapters.env"
    assert "/health" in " ".join(server["healthcheck"]["test"])
    assert server["profiles"] == [name]
    assert server["environment"]["HF_HUB_OFFLINE"] == "1"


def test_tgi_takes_the_adapter_registrys_export_when_there_is_one(services):
    assert services["tgi"]["env_file"][1] == {"path": "adapters/tgi.env", "required": False}
    assert services["tgi"]["environment"]["MODEL_ID"] == "/models/base"


def test_the_adapter_list_is_a_documented_placeholder():
    lines = (DEPLOY / "adapters.env").read_text().splitlines()
    assert lines and all(line.startswith("#") for line in lines)
    assert any("LORA_ADAPTERS=" in line for line in lines)


def test_the_proxy_terminates_tls_and_forwards_to_the_site(services):
    proxy = services["proxy"]
    assert set(proxy["secrets"]) == {"tls_certificate", "tls_private_key"}
    template = (DEPLOY / "nginx" / "templates" / "default.conf.template").read_text()
    assert "server web:8000;" in template
    assert "listen 443 ssl;" in template
    assert "proxy_set_header X-Forwarded-Proto https;" in template
    assert "proxy_set_header X-Request-ID $request_id;" in template
    assert "/run/secrets/tls_certificate" in template


def test_the_site_reads_every_setting_compose_gives_it(services):
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    gunicorn = (DEPLOY / "gunicorn.conf.py").read_text()
    for name in APP_SERVICES:
        for key in services[name]["environment"]:
            setting = key.removesuffix("_FILE")
            assert f'"{setting}"' in source or f'"{key}"' in gunicorn, (name, key)


def test_the_gunicorn_settings_are_gunicorn_settings():
    from gunicorn.config import KNOWN_SETTINGS

    known = {setting.name for setting in KNOWN_SETTINGS}
    namespace: dict = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), namespace)
    names = {name for name, value in namespace.items() if not name.startswith("_")}
    names -= {"os"}
    assert names <= known, names - known
