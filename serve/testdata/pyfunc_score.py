"""Score an MLflow scoring request with mlflow.pyfunc, as `mlflow models serve` would.

usage: pyfunc_score.py MODEL_DIR REQUEST_JSON OUT_JSON

REQUEST_JSON is {"dataframe_split": {"columns": [...], "data": [[...]]}} with
numbers (category codes) and null. Writes {"predictions": [...]}.
"""
import json
import sys

import mlflow.pyfunc
import pandas as pd


def main():
    model_dir, req_path, out_path = sys.argv[1:4]
    with open(req_path) as f:
        split = json.load(f)["dataframe_split"]
    df = pd.DataFrame(split["data"], columns=split["columns"], dtype="float64")
    preds = mlflow.pyfunc.load_model(model_dir).predict(df)
    with open(out_path, "w") as f:
        json.dump({"predictions": [float(x) for x in preds]}, f)


if __name__ == "__main__":
    main()
