"""deploy/compose.yaml describes a working multi-process Folio: every setting it passes exists, every Folio process
shares the database, the bucket and the secret, and the proxy's config file is there and reaches each app."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from app.config import Settings
from app.storage.base import parse_storage_url

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def command(service: dict) -> str:
    value = service.get("command", "")
    return " ".join(value) if isinstance(value, list) else value


def folio_processes(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if command(s).startswith("folio ")}


def test_the_services_are_all_there():
    services = compose()["services"]
    assert any(s.get("image", "").startswith("postgres") for s in services.values())
    assert any(s.get("image", "").startswith(("minio/minio", "dxflrs/garage")) for s in services.values())
    serving = [name for name, s in services.items() if command(s) == "folio serve"]
    workers = [name for name, s in services.items() if command(s) == "folio worker"]
    assert len(serving) == 2 and len(workers) == 1
    proxy = next(s for s in services.values() if s.get("image", "").startswith(("caddy", "nginx")))
    mounted = [volume.split(":")[0] for volume in proxy["volumes"]]
    config = DEPLOY / mounted[0]
    assert config.is_file(), f"the proxy's config {config} is missing"
    for name in serving:
        assert f"{name}:8000" in config.read_text(), f"the proxy never sends requests to {name}"


def test_every_folio_process_gets_real_settings_and_shares_the_same_ones():
    services = compose()["services"]
    processes = folio_processes(services)
    assert {"migrate", "app1", "app2", "worker"} <= set(processes)
    known = {f"FOLIO_{name.upper()}" for name in Settings.model_fields}
    environments = []
    for name, service in processes.items():
        environment = service["environment"]
        unknown = {key for key in environment if key.startswith("FOLIO_")} - known
        assert not unknown, f"{name} sets {unknown}, which Folio doesn't read"
        environments.append(environment)
    assert all(env == environments[0] for env in environments), "every Folio process must see the same settings"
    env = environments[0]
    assert env["FOLIO_JOB_RUNNER"] == "external", "jobs run in the worker, not in the web processes"
    assert parse_storage_url(env["FOLIO_STORAGE_URL"])[0] == "s3", "uploads must be shared, not on one host's disk"
    assert env["FOLIO_DATABASE_URL"].startswith("postgresql+psycopg://")
    endpoint = env["FOLIO_S3_ENDPOINT_URL"].split("//", 1)[1].split(":", 1)[0]
    assert endpoint in services, f"the S3 endpoint {endpoint} is not a service"
    # Values compose fills in from the operator's environment stand in as 48 characters (a valid secret).
    settings = Settings(_env_file=None, **{key[6:].lower(): value if "${" not in value else "x" * 48
                                           for key, value in env.items()})
    assert settings.job_runner == "external"


def test_apps_start_after_migrations_and_the_bucket():
    services = compose()["services"]
    for name in ("app1", "app2", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert any(other in needs for other in services if "bucket" in other)


def test_docker_compose_accepts_the_file_when_it_is_installed():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        return  # not installed here: the YAML checks above still hold
    result = subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                            capture_output=True, text=True, env={"FOLIO_SECRET_KEY": "x" * 48,
                                                                 "POSTGRES_PASSWORD": "p", "S3_SECRET_KEY": "s" * 12,
                                                                 "PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert result.returncode == 0, result.stderr


def test_caddy_accepts_its_config_when_it_is_installed(tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        return  # not installed here (Debian: apt-get install caddy); test_the_services_are_all_there still holds
    result = subprocess.run([caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, env={"SITE_ADDRESS": ":8088", "PATH": "/usr/bin:/bin",
                                                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
