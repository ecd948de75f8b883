"""Score rows with a scorecard model directory through mlflow.pyfunc.

usage: pyfunc_scorecard.py MODEL_DIR ROWS_JSON OUT_JSON

ROWS_JSON is {"columns": [...], "data": [[...]]} with numbers and null
(missing). Writes {"pyfunc": [...], "flavor": {...}, "mlflow": version}:
the probabilities from mlflow.pyfunc.load_model(dir).predict(df) and the
python_function flavor MLflow read.
"""
import json
import sys

import mlflow
import mlflow.pyfunc
import pandas as pd


def main():
    model_dir, rows_path, out_path = sys.argv[1:4]
    with open(rows_path) as f:
        rows = json.load(f)
    df = pd.DataFrame(rows["data"], columns=rows["columns"], dtype="float64")
    model = mlflow.pyfunc.load_model(model_dir)
    pred = model.predict(df)
    flavor = model.metadata.flavors["python_function"]
    with open(out_path, "w") as f:
        json.dump({"pyfunc": [float(x) for x in pred],
                   "loader_module": flavor["loader_module"],
                   "mlflow": mlflow.__version__}, f)


if __name__ == "__main__":
    main()
