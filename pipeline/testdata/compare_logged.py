"""Logs a LightGBM model the Python way next to a pipeline-trained one and
describes both as MLflow's own client sees them.

Usage: MLFLOW_TRACKING_URI=... compare_logged.py SPEC_JSON OUT_JSON

SPEC: {"experiment", "model_id", "run_id", "registered", "version",
"python_registered", "data"} — the pipeline's logged model, its run and its
registered version; the name to register the Python model under; the CSV
(German credit) both train on.

The Python model is logged as MLflow 3 documents it: a run with params,
mlflow.lightgbm.log_model(registered_model_name=...), the evaluation
dataset as an input with context "eval", a test metric linked to the model
and the dataset. OUT gets, for each model, what every field of the
LoggedModel, the run's outputs, the registered version and the MLmodel
holds, and whether mlflow.pyfunc.load_model("models:/<model_id>") loads and
predicts on the raw CSV's columns.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import Model

spec = json.loads(sys.argv[1])
client = MlflowClient()
raw = pd.read_csv(spec["data"])
label = raw.pop("creditability")

# A plain Python LightGBM pipeline: numbers as floats, text columns as
# category codes.
X = raw.copy()
for c in X.columns:
    if X[c].dtype == object or str(X[c].dtype).startswith("str"):
        X[c] = X[c].astype("category").cat.codes
    X[c] = X[c].astype("float64")
y = (label == "bad").astype(int)
test = X.iloc[800:]
mlflow.set_experiment(spec["experiment"])
with mlflow.start_run() as run:
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "verbose": -1}
    mlflow.log_params(params)
    booster = lgb.train(params, lgb.Dataset(X.iloc[:800], y.iloc[:800]), 50)
    info = mlflow.lightgbm.log_model(booster, name="model", input_example=X.iloc[:5],
                                     registered_model_name=spec["python_registered"])
    ds = mlflow.data.from_pandas(test.assign(creditability=y.iloc[800:]), name="german_credit_test",
                                 targets="creditability")
    mlflow.log_input(ds, context="eval")
    from sklearn.metrics import roc_auc_score
    auc = roc_auc_score(y.iloc[800:], booster.predict(test))
    mlflow.log_metric("test_auc", auc, model_id=info.model_id, dataset=ds)
python_run, python_model = run.info.run_id, info.model_id


def filled(v):
    return v is not None and v != "" and v != [] and v != {}


def describe(model_id, run_id, registered, version, score):
    m = client.get_logged_model(model_id)
    d = {}
    for f in ["model_id", "experiment_id", "name", "artifact_location", "creation_timestamp",
              "last_updated_timestamp", "status", "status_message", "source_run_id", "model_type",
              "params", "metrics", "tags"]:
        d["model." + f] = filled(getattr(m, f, None))
    d["model.status_value"] = str(m.status)
    d["model.source_run_is_run"] = m.source_run_id == run_id
    for k in ["mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.modelVersions"]:
        d["model.tags." + k] = k in m.tags
    d["model.registrations"] = json.loads(m.tags.get("mlflow.modelVersions", "[]"))
    for f in ["key", "value", "timestamp", "step", "dataset_name", "dataset_digest", "run_id", "model_id"]:
        d["model.metrics[]." + f] = bool(m.metrics) and all(filled(getattr(x, f, None)) or f in ("step",) for x in m.metrics)
    d["model.metrics_linked_to_model"] = bool(m.metrics) and all(x.model_id == model_id for x in m.metrics)
    r = client.get_run(run_id)
    d["run.outputs_name_model"] = [o.model_id for o in r.outputs.model_outputs] == [model_id]
    d["run.eval_input"] = any(t.key == "mlflow.data.context" and t.value == "eval"
                              for i in r.inputs.dataset_inputs for t in i.tags)
    mv = client.get_model_version(registered, version)
    d["version.model_id"] = mv.model_id
    d["version.model_id_equals"] = mv.model_id == model_id
    d["version.source_is_model"] = mv.source == f"models:/{model_id}"
    d["version.run_id_is_run"] = mv.run_id == run_id
    d["version.download_uri_is_location"] = (
        client.get_model_version_download_uri(registered, version) == m.artifact_location)
    mm = Model.load(f"models:/{model_id}").to_dict()
    for f in ["artifact_path", "flavors", "mlflow_version", "model_size_bytes", "model_uuid", "model_id",
              "run_id", "saved_input_example_info", "signature", "utc_time_created"]:
        d["MLmodel." + f] = filled(mm.get(f))
    d["MLmodel.artifact_path_is_location"] = mm.get("artifact_path") == m.artifact_location
    d["MLmodel.model_uuid_is_id"] = mm.get("model_uuid") == model_id == mm.get("model_id")
    d["MLmodel.flavors"] = sorted(mm["flavors"])
    d["found_by_search"] = model_id in {x.model_id for x in mlflow.search_logged_models(
        experiment_ids=[m.experiment_id], output_format="list")}
    try:
        pred = mlflow.pyfunc.load_model(f"models:/{model_id}").predict(score)
        d["pyfunc_predicts"] = len(pred) == len(score)
    except Exception as e:  # the Go test shows it
        d["pyfunc_predicts"] = f"{type(e).__name__}: {e}"
    return d


out = {
    "ours": describe(spec["model_id"], spec["run_id"], spec["registered"], spec["version"], raw.iloc[:20]),
    "python": describe(python_model, python_run, spec["python_registered"], "1", X.iloc[:20]),
    "mlflow": mlflow.__version__,
}
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1, default=str)
