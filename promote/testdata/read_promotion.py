"""Reads a promotion with the official MLflow client, as a person would
from the registry and the UI.

Usage: read_promotion.py MODEL_NAME ALIAS

Prints one JSON object: the version the alias names, its stage and tags,
the registered model's tags (the alias history), and the promotion run the
version's promotion_run_id tag names: status, params, metrics, tags and
artifact paths.
"""
import json
import sys

from mlflow.tracking import MlflowClient

name, alias = sys.argv[1:3]
client = MlflowClient()
mv = client.get_model_version_by_alias(name, alias)
rm = client.get_registered_model(name)
run = client.get_run(mv.tags["promotion_run_id"])
out = {
    "version": mv.version,
    "stage": mv.current_stage,
    "tags": mv.tags,
    "model_tags": rm.tags,
    "aliases": {a: v for a, v in rm.aliases.items()},
    "run": {
        "status": run.info.status,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
        "artifacts": sorted(f.path for f in client.list_artifacts(run.info.run_id)),
    },
}
json.dump(out, sys.stdout)
