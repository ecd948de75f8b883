"""Reads a run logged by `pipeline train` with the official MLflow client.

Usage: read_run.py RUN_ID MODEL_NAME VERSION HOLDOUT_CSV

Prints one JSON object: what the client sees of the run (params, latest
metrics, tags, dataset input, artifact paths, the number of points of the
validation loss history), the registered version, and, when lightgbm is
installed, mlflow.pyfunc's probabilities for the holdout rows as pandas
reads the CSV, the columns the signature declares as strings as text.
"""
import json
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
    "dataset": next((i.dataset.name for i in run.inputs.dataset_inputs
                     if any(t.key == "mlflow.data.context" and t.value == "training" for t in i.tags)), ""),
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
        out["model_artifacts"] = sorted(os.listdir(local))
        model = mlflow.pyfunc.load_model(uri)
        strings = [c.name for c in model.metadata.get_input_schema().inputs
                   if getattr(c.type, "name", str(c.type)) == "string"]
        df = pd.read_csv(holdout, dtype={c: str for c in strings})
        out["pyfunc"] = [float(p) for p in model.predict(df)]
    except Exception as e:  # reported to the Go test, which fails on it
        out["pyfunc_error"] = f"{type(e).__name__}: {e}"

print(json.dumps(out))
