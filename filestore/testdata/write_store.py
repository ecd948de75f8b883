"""Writes a file store with the official MLflow client, for the Go store to read.

Usage: python write_store.py ROOT
Prints JSON with the ids of what it created.
"""
import json
import math
import sys

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag


def main():
    root = sys.argv[1]
    uri = "file://" + root
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp_id = c.create_experiment("py-exp", tags={"team": "risk"})
    run = c.create_run(exp_id, run_name="py-run", tags={"a/b": "nested", "plain": "v"})
    rid = run.info.run_id
    c.log_batch(
        rid,
        metrics=[
            Metric("loss", 0.5, 1700000000000, 0),
            Metric("loss", float("nan"), 1700000000001, 1),
            Metric("loss", 0.25, 1700000000002, 2),
            Metric("auc", float("inf"), 1700000000003, 0),
            Metric("small", 1e-05, 1700000000004, 0),
            Metric("big", 1e16, 1700000000005, 3),
        ],
        params=[Param("lr", "0.1"), Param("depth", "6")],
        tags=[RunTag("x", "y")],
    )
    df = pd.DataFrame({"f": [1.0, 2.0], "y": [0, 1]})
    ds = mlflow.data.from_pandas(df, source="/tmp/data.csv", name="tiny")
    with mlflow.start_run(run_id=rid):
        mlflow.log_input(ds, context="training")
        mlflow.log_text("hello", "model/MLmodel")
    c.set_terminated(rid, "FINISHED")
    c.create_registered_model("py-model", tags={"owner": "me"})
    src = run.info.artifact_uri + "/model"
    v1 = c.create_model_version("py-model", src, rid, tags={"k": "1"})
    v2 = c.create_model_version("py-model", src, rid)
    c.set_registered_model_alias("py-model", "champion", v2.version)
    c.set_model_version_tag("py-model", v1.version, "stage", "old")
    print(json.dumps({"experiment_id": exp_id, "run_id": rid, "versions": [v1.version, v2.version],
                      "dataset_digest": ds.digest}))


if __name__ == "__main__":
    main()
