"""Score an MLflow scoring request with mlflow.pyfunc, as `mlflow models serve` would.

usage: pyfunc_score.py MODEL_DIR REQUEST_JSON OUT_JSON

REQUEST_JSON is {"dataframe_split": {"columns": [...], "data": [[...]]}} with
numbers (category codes) and null. Writes {"predictions": [...]}. Columns
the signature declares as strings (categorical features) keep the request's
values as Python objects, codes as numbers, which the model's pyfunc loader
takes as codes (MLflow's schema check refuses a float64 column there).
"""
import json
import sys

import mlflow.pyfunc
import pandas as pd


def main():
    model_dir, req_path, out_path = sys.argv[1:4]
    with open(req_path) as f:
        split = json.load(f)["dataframe_split"]
    model = mlflow.pyfunc.load_model(model_dir)
    strings = {c.name for c in model.metadata.get_input_schema().inputs
               if getattr(c.type, "name", str(c.type)) == "string"}
    df = pd.DataFrame(split["data"], columns=split["columns"], dtype=object)
    for c in df.columns:
        if c not in strings:
            df[c] = df[c].astype("float64")
    preds = model.predict(df)
    with open(out_path, "w") as f:
        json.dump({"predictions": [float(x) for x in preds]}, f)


if __name__ == "__main__":
    main()
