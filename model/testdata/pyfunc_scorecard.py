"""Score rows with a scorecard model directory through mlflow.pyfunc.

usage: pyfunc_scorecard.py MODEL_DIR ROWS_JSON OUT_JSON

ROWS_JSON is {"columns": [...], "data": [[...]]} with numbers (category
codes for categorical features) and null (missing). Columns the signature
declares as strings hold Python objects (MLflow's schema enforcement
refuses a float64 column for a string type before the model sees it). Writes {"pyfunc": [...], "flavor": {...}, "mlflow": version}:
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
    model = mlflow.pyfunc.load_model(model_dir)
    strings = {c.name for c in model.metadata.get_input_schema().inputs if getattr(c.type, "name", str(c.type)) == "string"}
    df = pd.DataFrame(rows["data"], columns=rows["columns"], dtype=object)
    for c in df.columns:
        if c not in strings:
            df[c] = df[c].astype("float64")
    pred = model.predict(df)
    flavor = model.metadata.flavors["python_function"]
    with open(out_path, "w") as f:
        json.dump({"pyfunc": [float(x) for x in pred],
                   "loader_module": flavor["loader_module"],
                   "mlflow": mlflow.__version__}, f)


if __name__ == "__main__":
    main()
