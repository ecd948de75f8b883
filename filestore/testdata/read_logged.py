"""Reads a store's logged model, run and version with MLflow's Python client.

Usage: read_logged.py SPEC_JSON OUT_JSON. SPEC names the run, the model id,
the registered model and version; OUT gets what the client read. MLflow 2.x
has no logged models: it reads the run, its metric histories and the
version, which must keep working in a store that also holds them.
"""
import json
import sys

import mlflow
from mlflow import MlflowClient

spec = json.loads(sys.argv[1])
c = MlflowClient()
out = {"mlflow_version": mlflow.__version__}
run = c.get_run(spec["run_id"])
out["run_metrics"] = dict(run.data.metrics)
out["runs_in_experiment"] = [r.info.run_id for r in c.search_runs([run.info.experiment_id])]
out["history"] = {k: [[m.timestamp, m.value, m.step] for m in c.get_metric_history(spec["run_id"], k)]
                  for k in spec["metrics"]}
mv = c.get_model_version(spec["model"], spec["version"])
out["version"] = {"source": mv.source, "run_id": mv.run_id, "status": mv.status,
                  "download_uri": c.get_model_version_download_uri(spec["model"], spec["version"])}
if mlflow.__version__.startswith("3."):
    out["version"]["model_id"] = mv.model_id
    out["outputs"] = [[o.model_id, o.step] for o in run.outputs.model_outputs]
    found = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    out["search"] = [m.model_id for m in found]
    m = c.get_logged_model(spec["model_id"])
    out["model"] = {
        "name": m.name, "status": str(m.status), "source_run_id": m.source_run_id,
        "artifact_location": m.artifact_location, "experiment_id": m.experiment_id,
        "params": dict(m.params), "tags": dict(m.tags),
        "metrics": sorted([m2.key, m2.value, m2.step, m2.dataset_name, m2.dataset_digest, m2.run_id, m2.model_id]
                          for m2 in m.metrics),
    }
    out["artifacts"] = sorted(f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=m.artifact_location))
with open(sys.argv[2], "w") as f:
    json.dump(out, f, default=str)
