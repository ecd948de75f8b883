"""Score a CSV with a model directory through mlflow.pyfunc, as a Python user would.

usage: pyfunc_csv.py MODEL_DIR DATA.csv OUT.json

Encodes each feature as schema.json says (numbers; categories as codes into
the levels, unseen or empty as NaN), predicts, and writes
{"pyfunc": [...], "mlflow": version}.
"""
import json
import os
import sys

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd


def main():
    model_dir, data_path, out_path = sys.argv[1:4]
    with open(os.path.join(model_dir, "schema.json")) as f:
        schema = json.load(f)
    raw = pd.read_csv(data_path, dtype=str, keep_default_na=False)
    cols = {}
    for ft in schema["features"]:
        values = raw[ft["name"]].str.strip()
        if ft["type"] == "categorical":
            code = {level: float(i) for i, level in enumerate(ft["levels"])}
            cols[ft["name"]] = [code.get(v, np.nan) for v in values]
        else:
            cols[ft["name"]] = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    df = pd.DataFrame(cols, dtype="float64")
    pred = mlflow.pyfunc.load_model(model_dir).predict(df)
    with open(out_path, "w") as f:
        json.dump({"pyfunc": [float(x) for x in pred], "mlflow": mlflow.__version__}, f)


if __name__ == "__main__":
    main()
