"""Reads a local MLflow file store with the official client, as a person
would with `mlflow ui --backend-store-uri ./mlruns`.

Usage: read_local_store.py MODEL_NAME ALIAS   (MLFLOW_TRACKING_URI=file://…)

Prints one JSON object: the registered model's aliases and tags, the
version the alias names with its tags, and the promotion run that version's
promotion_run_id tag names: status, params, tags and artifact paths.
"""
import json
import sys

from mlflow.tracking import MlflowClient

name, alias = sys.argv[1:3]
client = MlflowClient()
rm = client.get_registered_model(name)
mv = client.get_model_version_by_alias(name, alias)
run = client.get_run(mv.tags["promotion_run_id"])
json.dump({
    "aliases": dict(rm.aliases),
    "model_tags": rm.tags,
    "version": str(mv.version),
    "tags": mv.tags,
    "run": {
        "status": run.info.status,
        "experiment": client.get_experiment(run.info.experiment_id).name,
        "params": run.data.params,
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
        "artifacts": sorted(f.path for f in client.list_artifacts(run.info.run_id)),
    },
}, sys.stdout)
