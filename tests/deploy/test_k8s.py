from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.deploy import kustomize
from tests.deploy.conftest import DEPLOY, KUSTOMIZATIONS, by_key, kubectl_build, kubectl_kustomize

APP_IMAGE = "registry.example.org/compliance-qa:0.1.0"
SECRET_KEYS = {
    "secret-key",
    "db-app-password",
    "db-owner-password",
    "db-superuser-password",
    "audit-signing-key",
}
COMMON = {
    ("Namespace", "compliance-qa"),
    ("ConfigMap", "qa-config"),
    ("ConfigMap", "qa-adapters"),
    ("ConfigMap", "postgres-initdb"),
    ("PersistentVolumeClaim", "models"),
    ("PersistentVolumeClaim", "adapters"),
    ("Service", "postgres"),
    ("StatefulSet", "postgres"),
    ("Job", "migrate"),
    ("Service", "web"),
    ("Deployment", "web"),
    ("PodDisruptionBudget", "web"),
    ("Deployment", "worker"),
    ("Ingress", "web"),
    ("HorizontalPodAutoscaler", "web"),
    ("HorizontalPodAutoscaler", "worker"),
    ("NetworkPolicy", "default-deny-ingress"),
    ("NetworkPolicy", "web-from-ingress"),
    ("NetworkPolicy", "postgres-from-app"),
    ("NetworkPolicy", "inference-from-app"),
}


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict, init: bool = False) -> list[dict]:
    spec = pod_spec(obj)
    return spec.get("containers", []) + (spec.get("initContainers", []) if init else [])


def workloads(objects: dict) -> dict:
    return {key: obj for key, obj in objects.items() if key[0] in kustomize.POD_TEMPLATES}


@pytest.mark.skipif(not kubectl_kustomize(), reason="no kubectl with kustomize v4 or later")
@pytest.mark.parametrize("variant", sorted(KUSTOMIZATIONS))
def test_the_python_renderer_renders_what_kubectl_does(variant):
    root = KUSTOMIZATIONS[variant]
    assert by_key(kustomize.build(root)) == by_key(kubectl_build(root))


def test_the_kustomization_renders_the_topology(k8s):
    assert set(k8s) == COMMON | {("Deployment", "tgi"), ("Service", "tgi")}
    assert {obj["metadata"].get("namespace") for key, obj in k8s.items()} == {
        None,  # the Namespace itself
        "compliance-qa",
    }
    assert all(
        obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "compliance-qa"
        for obj in k8s.values()
    )


def test_the_vllm_variant_serves_the_chat_api_in_place_of_tgi(k8s_vllm):
    assert set(k8s_vllm) == COMMON | {("Deployment", "vllm"), ("Service", "vllm")}
    config = k8s_vllm[("ConfigMap", "qa-config")]["data"]
    assert (config["TGI_URL"], config["TGI_API"]) == ("http://vllm:8000", "chat")
    (vllm,) = containers(k8s_vllm[("Deployment", "vllm")])
    assert "--enable-lora --lora-modules" in vllm["command"][-1]


@pytest.mark.parametrize("variant", ["tgi", "vllm"])
def test_every_long_running_container_has_probes_and_resource_requests(k8s, k8s_vllm, variant):
    objects = k8s if variant == "tgi" else k8s_vllm
    for (kind, name), obj in workloads(objects).items():
        for container in containers(obj, init=True):
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests), (name, container["name"])
        if kind == "Job":
            continue
        for container in containers(obj):
            assert "readinessProbe" in container, name
            assert "livenessProbe" in container, name


def test_the_site_is_probed_on_healthz_and_readyz(k8s):
    (web,) = containers(k8s[("Deployment", "web")])
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert web["command"] == ["gunicorn", "--config", "deploy/gunicorn.conf.py", "config.wsgi"]
    (worker,) = containers(k8s[("Deployment", "worker")])
    assert worker["command"][:3] == ["python", "manage.py", "db_worker"]
    assert worker["livenessProbe"]["exec"]["command"][:3] == ["python", "-m", "config.health"]


def test_migrations_run_first_as_the_owner_and_new_pods_wait_for_them(k8s):
    (migrate,) = containers(k8s[("Job", "migrate")])
    assert "manage.py migrate --no-input" in migrate["command"][-1]
    assert "createcachetable" in migrate["command"][-1]
    env = {item["name"]: item["value"] for item in migrate["env"]}
    assert env["DATABASE_OWNER_URL"].startswith("postgres://qa_owner@")
    for name in ("web", "worker"):
        (wait,) = pod_spec(k8s[("Deployment", name)])["initContainers"]
        assert wait["command"][-1] == "migrations"
        assert wait["command"][:3] == ["python", "-m", "config.health"]
        strategy = k8s[("Deployment", name)]["spec"]["strategy"]["rollingUpdate"]
        assert strategy["maxUnavailable"] == 0


@pytest.mark.parametrize(("variant", "name"), [("tgi", "tgi"), ("vllm", "vllm")])
def test_the_inference_server_gets_a_gpu_node_and_shared_memory(k8s, k8s_vllm, variant, name):
    deployment = (k8s if variant == "tgi" else k8s_vllm)[("Deployment", name)]
    spec = pod_spec(deployment)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    (server,) = spec["containers"]
    assert server["resources"]["limits"]["nvidia.com/gpu"] == 1
    shm = next(v for v in spec["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"]["medium"] == "Memory"
    assert {"name": "shm", "mountPath": "/dev/shm"} in server["volumeMounts"]
    adapters = next(e for e in server["env"] if e["name"] == "LORA_ADAPTERS")
    assert adapters["valueFrom"]["configMapKeyRef"] == {
        "name": "qa-adapters",
        "key": "LORA_ADAPTERS",
        "optional": True,
    }


def test_config_and_secrets_are_references_that_resolve(k8s):
    config_maps = {name for kind, name in k8s if kind == "ConfigMap"}
    assert not [key for key in k8s if key[0] == "Secret"], "secrets are made out of band"
    for (_, name), obj in workloads(k8s).items():
        for container in containers(obj, init=True):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps, name
            for item in container.get("env", []):
                assert "value" in item or "valueFrom" in item
                assert not re.search(r"PASSWORD$|SECRET|TOKEN$", item["name"]), item["name"]
        for volume in pod_spec(obj).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] == "qa-secrets"
                assert {item["key"] for item in volume["secret"]["items"]} <= SECRET_KEYS
    assert k8s[("Ingress", "web")]["spec"]["tls"][0]["secretName"] == "qa-tls"
    readme = (DEPLOY / "README.md").read_text()
    for key in SECRET_KEYS | {"qa-secrets", "qa-tls"}:
        assert key in readme, f"deploy/README.md does not say how to make {key}"


def test_only_the_migration_sees_the_owner_password(k8s):
    for (_, name), obj in workloads(k8s).items():
        keys = {
            item["key"]
            for volume in pod_spec(obj).get("volumes", [])
            if "secret" in volume
            for item in volume["secret"]["items"]
        }
        assert ("db-owner-password" in keys) == (name in {"migrate", "postgres"}), name


def test_the_site_reads_every_setting_the_config_map_sets(k8s):
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    gunicorn = (DEPLOY / "gunicorn.conf.py").read_text()
    for key in k8s[("ConfigMap", "qa-config")]["data"]:
        name = key.removesuffix("_FILE")
        assert f'"{name}"' in source or f'"{key}"' in gunicorn, key


def test_web_and_workers_scale_horizontally(k8s):
    for name in ("web", "worker"):
        hpa = k8s[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]


def test_images_are_pinned(k8s, k8s_vllm):
    for objects in (k8s, k8s_vllm):
        for obj in workloads(objects).values():
            for container in containers(obj, init=True):
                image = container["image"]
                assert re.search(r":v?\d[\w.-]*$", image) and "latest" not in image, image
    (web,) = containers(k8s[("Deployment", "web")])
    assert web["image"] == APP_IMAGE


def test_the_database_is_initialised_by_the_same_script_as_in_compose(k8s):
    script = k8s[("ConfigMap", "postgres-initdb")]["data"]["10-roles.sh"]
    assert script == (DEPLOY / "postgres" / "initdb" / "10-roles.sh").read_text()
