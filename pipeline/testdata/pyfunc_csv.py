"""Scores a CSV with mlflow.pyfunc as a Python colleague would.

Usage: MLFLOW_TRACKING_URI=... pyfunc_csv.py MODEL_URI CSV OUT_JSON

The CSV is read with pandas as it is, except that the columns the model's
signature declares as strings are read as text (Taiwan's category codes
look like numbers); every column goes in, the label and the id too.
Writes the probabilities as a JSON list.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow.pyfunc
import pandas as pd

uri, path, out = sys.argv[1:4]
model = mlflow.pyfunc.load_model(uri)
strings = [c.name for c in model.metadata.get_input_schema().inputs
           if getattr(c.type, "name", str(c.type)) == "string"]
df = pd.read_csv(path, dtype={c: str for c in strings})
pred = model.predict(df)
with open(out, "w") as f:
    json.dump([float(p) for p in pred], f)
