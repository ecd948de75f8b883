"""Reads a file store through MLflow's Python client and prints what it saw.

Usage: MLFLOW_TRACKING_URI=file:///... python read_store.py SPEC_JSON
SPEC_JSON: {"run_id": ..., "metrics": [...], "model": ..., "alias": ..., "experiment": ...}
Prints one JSON object; non-finite metric values are written as strings.
"""
import json
import math
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow
from mlflow import MlflowClient


def num(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    return v


def version(mv):
    return {
        "name": mv.name,
        "version": str(mv.version),
        "source": mv.source,
        "run_id": mv.run_id,
        "status": mv.status,
        "current_stage": mv.current_stage,
        "tags": dict(mv.tags),
        "aliases": sorted(mv.aliases),
    }


def main():
    spec = json.loads(sys.argv[1])
    uri = os.environ["MLFLOW_TRACKING_URI"]
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    out = {"mlflow_version": mlflow.__version__}
    exp = c.get_experiment_by_name(spec["experiment"])
    out["experiment"] = {
        "id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "tags": dict(exp.tags),
    }
    out["experiments"] = sorted(e.name for e in c.search_experiments())
    r = c.get_run(spec["run_id"])
    out["run"] = {
        "run_id": r.info.run_id,
        "run_name": r.info.run_name,
        "experiment_id": r.info.experiment_id,
        "status": r.info.status,
        "user_id": r.info.user_id,
        "artifact_uri": r.info.artifact_uri,
        "lifecycle_stage": r.info.lifecycle_stage,
        "start_time_set": r.info.start_time > 0,
        "end_time_set": (r.info.end_time or 0) > 0,
        "params": dict(r.data.params),
        "metrics": {k: num(v) for k, v in r.data.metrics.items()},
        "tags": {k: v for k, v in r.data.tags.items()},
        "inputs": [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "source": d.dataset.source,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "tags": {t.key: t.value for t in d.tags},
            }
            for d in r.inputs.dataset_inputs
        ],
    }
    out["runs_in_experiment"] = sorted(x.info.run_id for x in c.search_runs([exp.experiment_id]))
    out["history"] = {
        k: [[m.timestamp, num(m.value), m.step] for m in c.get_metric_history(spec["run_id"], k)]
        for k in spec["metrics"]
    }
    def walk(path):
        files = []
        for f in c.list_artifacts(spec["run_id"], path):
            if f.is_dir:
                files += walk(f.path)
            else:
                files.append([f.path, f.file_size])
        return files
    out["artifacts"] = sorted(walk(None))
    name = spec["model"]
    rm = c.get_registered_model(name)
    out["registered_model"] = {
        "name": rm.name,
        "tags": dict(rm.tags),
        "aliases": dict(rm.aliases),
        "latest_versions": sorted(str(v.version) for v in rm.latest_versions),
    }
    out["versions"] = {v: version(c.get_model_version(name, v)) for v in spec["versions"]}
    out["by_alias"] = version(c.get_model_version_by_alias(name, spec["alias"]))
    out["search"] = sorted(str(v.version) for v in c.search_model_versions(f"name='{name}'"))
    out["download_uri"] = c.get_model_version_download_uri(name, spec["versions"][0])
    out["production"] = [str(v.version) for v in c.get_latest_versions(name, stages=["Production"])]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
