"""Score rows with a model directory through MLflow's Python API.

usage: pyfunc_predict.py MODEL_DIR ROWS_JSON OUT_JSON

ROWS_JSON is {"columns": [...], "data": [[...]]} with numbers and null
(missing). Writes {"pyfunc": [...], "lightgbm": [...], "mlflow": version}:
the probabilities from mlflow.pyfunc.load_model(dir).predict(df) and from
the Booster that mlflow.lightgbm.load_model returns.
"""
import json
import sys

import mlflow
import mlflow.lightgbm
import mlflow.pyfunc
import pandas as pd


def main():
    model_dir, rows_path, out_path = sys.argv[1:4]
    with open(rows_path) as f:
        rows = json.load(f)
    df = pd.DataFrame(rows["data"], columns=rows["columns"], dtype="float64")
    pyfunc = mlflow.pyfunc.load_model(model_dir).predict(df)
    booster = mlflow.lightgbm.load_model(model_dir).predict(df)
    with open(out_path, "w") as f:
        json.dump({"pyfunc": [float(x) for x in pyfunc],
                   "lightgbm": [float(x) for x in booster],
                   "mlflow": mlflow.__version__}, f)


if __name__ == "__main__":
    main()
