"""Reads, with the official MLflow Python client, what the Go client logged.

Usage: registry_crossclient.py RUN_ID MODEL_NAME ALIAS DOWNLOAD_DIR

MLFLOW_TRACKING_URI names the server; MLFLOW_S3_ENDPOINT_URL and the AWS_*
variables let the client read s3:// artifacts itself. Prints one JSON
object on stdout for the Go test (mlflow/crossclient_test.go) to compare.
Works with mlflow 2.9.2 and 3.x.
"""

import hashlib
import json
import os
import sys

import mlflow
from mlflow import MlflowClient


def sha256_tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, "rb") as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def list_all(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.append({"path": f.path, "is_dir": f.is_dir, "size": f.file_size or 0})
        if f.is_dir:
            out.extend(list_all(client, run_id, f.path))
    return out


def main():
    run_id, model_name, alias, dst = sys.argv[1:5]
    client = MlflowClient()
    run = client.get_run(run_id)

    metrics = {}
    for key in run.data.metrics:
        hist = client.get_metric_history(run_id, key)
        metrics[key] = sorted([m.step, m.value, m.timestamp] for m in hist)

    inputs = []
    for di in run.inputs.dataset_inputs:
        d = di.dataset
        inputs.append({
            "name": d.name,
            "digest": d.digest,
            "source_type": d.source_type,
            "source": d.source,
            "schema": d.schema,
            "profile": d.profile,
            "tags": {t.key: t.value for t in di.tags},
        })

    run_dir = os.path.join(dst, "run")
    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model", dst_path=run_dir)
    model_dir = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{model_name}@{alias}", dst_path=os.path.join(dst, "alias"))

    mv = client.get_model_version_by_alias(model_name, alias)
    latest = client.get_registered_model(model_name)

    json.dump({
        "mlflow_version": mlflow.__version__,
        "run": {
            "status": run.info.status,
            "name": run.info.run_name,
            "artifact_uri": run.info.artifact_uri,
            "params": run.data.params,
            "tags": run.data.tags,
            "latest_metrics": run.data.metrics,
        },
        "metrics": metrics,
        "inputs": inputs,
        "artifacts": list_all(client, run_id),
        "downloaded_run_model": sha256_tree(os.path.join(run_dir, "model")),
        "downloaded_alias_model": sha256_tree(model_dir),
        "model_version": {
            "name": mv.name,
            "version": str(mv.version),
            "run_id": mv.run_id,
            "source": mv.source,
            "status": mv.status,
            "tags": mv.tags,
            "aliases": list(mv.aliases),
        },
        "registered_model_aliases": {k: str(v) for k, v in latest.aliases.items()},
    }, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
