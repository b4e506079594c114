"""The part of `kustomize build` that deploy/k8s uses, so that its output can be checked where
kubectl is not installed: resources (files and kustomization folders), namespace, labels
(metadata only), images, and patches that merge a ConfigMap's data or delete an object. Where
kubectl is installed, test_k8s.py checks that this renders exactly what `kubectl kustomize`
does. Anything else in a kustomization is refused, so a new feature cannot pass unrendered."""

from __future__ import annotations

from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "namespace", "labels", "resources", "images", "patches"}
CLUSTER_SCOPED = {
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
}
POD_TEMPLATES = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


class Unsupported(Exception):
    pass


def build(root: Path) -> list[dict]:
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise Unsupported(f"{root}: {', '.join(sorted(unknown))} not rendered here")
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (root / entry).resolve()
        if path.is_dir():
            objects += build(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch in kustomization.get("patches", []):
        objects = apply_patch(objects, patch)
    for obj in objects:
        if "namespace" in kustomization and obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = kustomization["namespace"]
        for label in kustomization.get("labels", []):
            if set(label) - {"pairs"}:
                raise Unsupported(f"{root}: labels options {sorted(label)}")
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
        for image in kustomization.get("images", []):
            set_image(obj, image)
    return objects


def apply_patch(objects: list[dict], patch: dict) -> list[dict]:
    if set(patch) != {"patch"}:
        raise Unsupported(f"patch options {sorted(patch)}")
    change = yaml.safe_load(patch["patch"])
    key = (change["kind"], change["metadata"]["name"])
    matches = [obj for obj in objects if (obj["kind"], obj["metadata"]["name"]) == key]
    if len(matches) != 1:
        raise Unsupported(f"patch target {key} matches {len(matches)} objects")
    if change.pop("$patch", None) == "delete":
        return [obj for obj in objects if obj is not matches[0]]
    if change["kind"] != "ConfigMap" or set(change) - {"apiVersion", "kind", "metadata", "data"}:
        raise Unsupported(f"patch of {key} beyond a ConfigMap's data")
    matches[0].setdefault("data", {}).update(change.get("data", {}))
    return objects


def set_image(obj: dict, image: dict) -> None:
    if obj["kind"] not in POD_TEMPLATES:
        return
    spec = obj["spec"]["template"]["spec"]
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        name, _, tag = container["image"].partition(":")
        if name == image["name"]:
            container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
