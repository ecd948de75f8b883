"""Score rows with a model directory through MLflow's Python API.

usage: pyfunc_predict.py MODEL_DIR ROWS_JSON OUT_JSON

ROWS_JSON is {"columns": [...], "data": [[...]], "strings": [[...]]}: the
same rows twice, "data" with category codes, "strings" with the level
strings of categorical features; null is missing. Writes {"pyfunc": [...],
"pyfunc_codes": [...], "lightgbm": [...], "mlflow": version}: the
probabilities of mlflow.pyfunc.load_model(dir).predict(df) on the strings
and on the codes, and of the Booster mlflow.lightgbm.load_model returns
(on the codes, as LightGBM takes them).

Columns the signature declares as strings hold Python objects in both
DataFrames (MLflow's schema enforcement refuses a float64 column for a
string type before the model sees it); the codes are floats there.
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
    model = mlflow.pyfunc.load_model(model_dir)
    strings = {c.name for c in model.metadata.get_input_schema().inputs if getattr(c.type, "name", str(c.type)) == "string"}
    cols = rows["columns"]

    def frame(data):
        df = pd.DataFrame(data, columns=cols, dtype=object)
        for c in cols:
            if c not in strings:
                df[c] = df[c].astype("float64")
        return df

    codes = frame(rows["data"])
    out = {"mlflow": mlflow.__version__, "pyfunc_codes": [float(x) for x in model.predict(codes)]}
    if strings:
        out["pyfunc"] = [float(x) for x in model.predict(frame(rows["strings"]))]
    else:
        out["pyfunc"] = out["pyfunc_codes"]
    booster = mlflow.lightgbm.load_model(model_dir)
    out["lightgbm"] = [float(x) for x in booster.predict(pd.DataFrame(rows["data"], columns=cols, dtype="float64"))]
    out["booster_class"] = type(booster).__module__ + "." + type(booster).__name__
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
