"""Launch configuration for TGI or vLLM serving the approved and active adapter versions.

Every version is served under its key (`regulatory-answer-v3`), the id the answer path sends:
a rollback to an approved version then needs no restart, and a server still holding an old
version under a name can never answer for a newer one. Each folder is mounted read-only at
/adapters/<name>/v<version> in the container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from apps.adapters.models import AdapterVersion

SERVERS = ("tgi", "vllm")
MOUNT_ROOT = "/adapters"
TGI_IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.6"
VLLM_IMAGE = "vllm/vllm-openai:latest"


@dataclass(frozen=True)
class Served:
    key: str
    host_path: str
    mount_path: str
    rank: int


def served(versions: list[AdapterVersion]) -> list[Served]:
    return [
        Served(
            key=v.key,
            host_path=v.path,
            mount_path=f"{MOUNT_ROOT}/{v.name}/v{v.version}",
            rank=int(v.training_manifest.get("config", {}).get("lora_r", 16)),
        )
        for v in versions
    ]


def tgi_environment(adapters: list[Served], base_model: str) -> dict[str, str]:
    return {
        "MODEL_ID": base_model,
        "LORA_ADAPTERS": ",".join(f"{a.key}={a.mount_path}" for a in adapters),
    }


def vllm_arguments(adapters: list[Served], base_model: str) -> list[str]:
    if not adapters:
        return ["--model", base_model]
    return [
        "--model",
        base_model,
        "--enable-lora",
        "--lora-modules",
        *[f"{a.key}={a.mount_path}" for a in adapters],
        "--max-loras",
        str(len(adapters)),
        "--max-lora-rank",
        str(max(a.rank for a in adapters)),
    ]


def volumes(adapters: list[Served]) -> list[dict]:
    return [
        {"type": "bind", "source": a.host_path, "target": a.mount_path, "read_only": True}
        for a in adapters
    ]


def compose_service(server: str, adapters: list[Served], base_model: str) -> dict:
    """A Compose service (the specification's long volume syntax, read-only binds)."""
    if server == "tgi":
        service = {"image": TGI_IMAGE, "environment": tgi_environment(adapters, base_model)}
    else:
        service = {"image": VLLM_IMAGE, "command": vllm_arguments(adapters, base_model)}
    return {"services": {server: service | {"volumes": volumes(adapters)}}}


def k8s_volumes(adapters: list[Served]) -> dict:
    """The pod's volumes and the container's read-only mounts, to merge into a Deployment:
    one hostPath (or, in a cluster, a PersistentVolumeClaim with the same name) per version."""
    names = [f"adapter-{a.key}"[:63] for a in adapters]
    return {
        "volumes": [
            {"name": name, "hostPath": {"path": a.host_path, "type": "Directory"}}
            for name, a in zip(names, adapters, strict=True)
        ],
        "volumeMounts": [
            {"name": name, "mountPath": a.mount_path, "readOnly": True}
            for name, a in zip(names, adapters, strict=True)
        ],
    }


def serving_config_write(
    *, server: str, versions: list[AdapterVersion], base_model: str, out: Path
) -> list[Path]:
    """Write the launch configuration and the deploy snippets into `out`; return the paths."""
    adapters = served(versions)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if server == "tgi":
        env = tgi_environment(adapters, base_model)
        text = "".join(f"{key}={value}\n" for key, value in env.items())
        written.append(write(out / "tgi.env", text))
    else:
        written.append(write(out / "vllm.args", " ".join(vllm_arguments(adapters, base_model))))
    compose = compose_service(server, adapters, base_model)
    written.append(write(out / f"compose.{server}.json", json.dumps(compose, indent=2)))
    k8s = k8s_volumes(adapters)
    written.append(write(out / f"k8s.{server}-adapters.json", json.dumps(k8s, indent=2)))
    return written


def write(path: Path, text: str) -> Path:
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path
