"""A small kustomize renderer for deploy/: the features deploy/ uses (resources as files
or directories, strategic-merge `patches` including `$patch: delete`, `namespace`,
`images`, `replicas`), so the manifests are rendered and checked with no binary.
tests/unit/test_k8s_manifests.py compares its output with `kubectl kustomize` where
kubectl is installed; a kustomization using anything else is refused, not half-rendered."""
import copy
import os

import yaml

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "patches", "namespace", "images", "replicas"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                  "StorageClass", "CustomResourceDefinition", "PriorityClass"}
WORKLOADS = {"Deployment", "StatefulSet", "ReplicaSet"}


def load_documents(path):
    with open(path) as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc]


def kustomization(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as fh:
        data = yaml.safe_load(fh)
    unknown = set(data) - KNOWN_FIELDS
    if unknown:
        raise ValueError(f"{directory}/kustomization.yaml: not supported here: {sorted(unknown)}")
    return data


def key(resource):
    return resource["kind"], resource["metadata"]["name"]


def merge(base, patch):
    """Strategic merge as deploy/ needs it: maps merge, lists of named maps merge by name,
    any other value (and any other list) is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if (isinstance(base, list) and isinstance(patch, list)
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        out = [copy.deepcopy(i) for i in base]
        names = [i["name"] for i in out]
        for item in patch:
            if item["name"] in names:
                index = names.index(item["name"])
                out[index] = merge(out[index], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _apply_patch(resources, patch, source):
    patch = dict(patch)
    delete = patch.pop("$patch", None) == "delete"
    matches = [i for i, r in enumerate(resources) if key(r) == key(patch)]
    if len(matches) != 1:
        raise ValueError(f"{source}: patch {key(patch)} matches {len(matches)} resources")
    if delete:
        del resources[matches[0]]
    else:
        resources[matches[0]] = merge(resources[matches[0]], patch)


def _set_image(container, rule):
    image = container["image"]
    name, _, tag = image.partition(":") if "@" not in image else (image, "", "")
    if name != rule["name"]:
        return
    container["image"] = f"{rule.get('newName', name)}:{rule.get('newTag', tag)}".rstrip(":")


def render(directory):
    """The resources `kubectl kustomize <directory>` gives, in file order."""
    spec = kustomization(directory)
    resources = []
    for entry in spec.get("resources", []):
        path = os.path.normpath(os.path.join(directory, entry))
        resources += render(path) if os.path.isdir(path) else load_documents(path)
    for entry in spec.get("patches", []):
        if set(entry) != {"path"}:
            raise ValueError(f"{directory}: only file patches are supported: {entry}")
        source = os.path.join(directory, entry["path"])
        for patch in load_documents(source):
            _apply_patch(resources, patch, source)
    for resource in resources:
        if "namespace" in spec and resource["kind"] not in CLUSTER_SCOPED:
            resource["metadata"]["namespace"] = spec["namespace"]
        pod = (resource.get("spec", {}).get("template", {}).get("spec", {})
               if resource["kind"] in WORKLOADS | {"Job"} else {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            for rule in spec.get("images", []):
                _set_image(container, rule)
        for rule in spec.get("replicas", []):
            if resource["kind"] in WORKLOADS and resource["metadata"]["name"] == rule["name"]:
                resource["spec"]["replicas"] = rule["count"]
    return resources
