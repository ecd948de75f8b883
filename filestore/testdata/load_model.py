"""Loads a registered model from a file store the way a user would.

Usage: MLFLOW_TRACKING_URI=file:///... python load_model.py MODEL_URI RUN_ID
Scores three rows shaped by the model's signature (numbers 0, categorical
features their first level, which MLmodel's metadata lists) and prints
{"n": rows scored, "test_auc": the run's metric, "first": first score}.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow
import mlflow.pyfunc
import pandas as pd


def main():
    uri, run_id = sys.argv[1:3]
    model = mlflow.pyfunc.load_model(uri)
    levels = (model.metadata.metadata or {}).get("creditrisk", {}).get("categorical_levels", {})
    types = {c.name: getattr(c.type, "name", str(c.type)) for c in model.metadata.get_input_schema().inputs}
    zero = {"long": 0, "string": None}
    row = {c: levels[c][0] if c in levels else zero.get(t, 0.0) for c, t in types.items()}
    df = pd.DataFrame([row] * 3)
    pred = model.predict(df)
    run = mlflow.MlflowClient().get_run(run_id)
    print(json.dumps({"n": len(pred), "test_auc": run.data.metrics.get("test_auc"),
                      "first": float(pred.iloc[0] if hasattr(pred, "iloc") else pred[0])}))


if __name__ == "__main__":
    main()
