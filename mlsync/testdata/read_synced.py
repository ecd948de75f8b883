"""Reads what `pipeline sync` copied to a server with MLflow's own client.

Usage: MLFLOW_TRACKING_URI=http://... python read_synced.py EXPERIMENT MODEL ALIAS LOAD
Prints {"runs": [{run_id, source_run_id, status, params, metrics}], "versions":
[{version, run_id, source_version}], "alias_version": ..., "scored": rows
scored by the model loaded by alias (only when LOAD is "1")}.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow
from mlflow.tracking import MlflowClient


def main():
    exp_name, model, alias, load = sys.argv[1:5]
    client = MlflowClient()
    exp = client.get_experiment_by_name(exp_name)
    runs = client.search_runs([exp.experiment_id])
    out = {"runs": [], "versions": []}
    for r in runs:
        hist = client.get_metric_history(r.info.run_id, "train_auc") if "train_auc" in r.data.metrics else []
        out["runs"].append({
            "run_id": r.info.run_id,
            "source_run_id": r.data.tags.get("pipeline.sync.source_run_id"),
            "status": r.info.status,
            "run_name": r.info.run_name,
            "params": len(r.data.params),
            "metrics": len(r.data.metrics),
            "test_auc": r.data.metrics.get("test_auc"),
            "inputs": len(r.inputs.dataset_inputs),
            "artifacts": [f.path for f in client.list_artifacts(r.info.run_id)],
            "train_auc_points": len(hist),
        })
    for v in client.search_model_versions(f"name='{model}'"):
        out["versions"].append({"version": v.version, "run_id": v.run_id,
                                "source_version": v.tags.get("pipeline.sync.source_version")})
    out["alias_version"] = client.get_model_version_by_alias(model, alias).version
    if load == "1":
        import mlflow.pyfunc
        import pandas as pd
        m = mlflow.pyfunc.load_model(f"models:/{model}@{alias}")
        # Categorical features are strings: the first of the levels the
        # model's metadata lists; numbers 0 (an int for a long feature).
        levels = m.metadata.metadata["creditrisk"].get("categorical_levels", {})
        types = {c.name: getattr(c.type, "name", str(c.type)) for c in m.metadata.get_input_schema().inputs}
        row = {c: levels[c][0] if c in levels else (0 if t == "long" else 0.0) for c, t in types.items()}
        pred = m.predict(pd.DataFrame([row] * 3))
        out["scored"] = len(pred)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
