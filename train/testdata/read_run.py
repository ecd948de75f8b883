"""Reads a run logged by `pipeline train` with the official MLflow client.

Usage: read_run.py RUN_ID MODEL_NAME VERSION HOLDOUT_CSV

Prints one JSON object: what the client sees of the run (params, latest
metrics, tags, dataset input, artifact paths, the number of points of the
validation loss history), the registered version, and, when lightgbm is
installed, mlflow.pyfunc's probabilities for the holdout rows. Categorical
values are encoded as the model's schema.json says (their index in the
feature's levels), the same encoding the Go side uses.
"""
import json
import math
import os
import sys
import tempfile

import mlflow
from mlflow.tracking import MlflowClient

run_id, name, version, holdout = sys.argv[1:5]
client = MlflowClient()
run = client.get_run(run_id)


def walk(path=None):
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            yield from walk(f.path)
        else:
            yield f.path


mv = client.get_model_version(name, version)
out = {
    "run_id": run.info.run_id,
    "params": run.data.params,
    "metrics": run.data.metrics,
    "tags": run.data.tags,
    "dataset": run.inputs.dataset_inputs[0].dataset.name if run.inputs.dataset_inputs else "",
    "artifacts": sorted(walk()),
    "version": mv.version,
    "status": mv.status,
    "validation_steps": len(client.get_metric_history(run_id, "validation_log_loss")),
}

try:
    import lightgbm  # noqa: F401
    import pandas as pd
except ImportError:
    out["has_lightgbm"] = False
else:
    out["has_lightgbm"] = True
    try:
        uri = f"models:/{name}/{version}"
        local = mlflow.artifacts.download_artifacts(uri, dst_path=tempfile.mkdtemp())
        with open(os.path.join(local, "schema.json")) as f:
            schema = json.load(f)
        raw = pd.read_csv(holdout, dtype=str, keep_default_na=False)
        cols = {}
        for feat in schema["features"]:
            vals = raw[feat["name"]]
            if feat["type"] == "categorical":
                idx = {lvl: float(i) for i, lvl in enumerate(feat["levels"])}
                cols[feat["name"]] = [idx.get(v, math.nan) for v in vals]
            else:
                cols[feat["name"]] = [float(v) if v != "" else math.nan for v in vals]
        df = pd.DataFrame(cols)
        pred = mlflow.pyfunc.load_model(uri).predict(df)
        out["pyfunc"] = [float(p) for p in pred]
    except Exception as e:  # reported to the Go test, which fails on it
        out["pyfunc_error"] = f"{type(e).__name__}: {e}"

print(json.dumps(out))
