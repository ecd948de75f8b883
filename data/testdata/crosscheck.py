"""Cross-checks data/'s outputs for german_credit.csv against pandas, numpy
and mlflow. Usage: crosscheck.py CSV PROFILE_JSON MLFLOW_SCHEMA_JSON SCHEMA_JSON.
Prints one line per problem and exits 1 if there is any."""
import json
import sys

import mlflow.types
import numpy as np
import pandas as pd

csv_path, profile_path, mlflow_schema_path, schema_path = sys.argv[1:5]
df = pd.read_csv(csv_path)
profile = json.load(open(profile_path))
schema = json.load(open(schema_path))
problems = []

if profile["rows"] != len(df):
    problems.append(f"rows {profile['rows']} != {len(df)}")

for h in profile["features"]:
    col = df[h["name"]]
    if h["type"] == "numeric":
        vals = col.dropna().to_numpy(dtype=float)
        qs = np.quantile(vals, [q / 10 for q in range(1, 10)])
        edges = []
        for q in qs:
            if not edges or q > edges[-1]:
                edges.append(float(q))
        if not np.allclose(edges, h["edges"], rtol=1e-12, atol=0):
            problems.append(f"{h['name']}: edges {h['edges']} != numpy {edges}")
        # Buckets (-inf, e0], (e0, e1], ..., (ek, inf), then missing.
        bins = [-np.inf] + h["edges"] + [np.inf]
        counts = pd.cut(col, bins=bins, right=True).value_counts(sort=False).tolist()
        counts.append(int(col.isna().sum()))
        if counts != h["counts"]:
            problems.append(f"{h['name']}: counts {h['counts']} != pandas {counts}")
    else:
        levels = sorted(col.dropna().astype(str).unique())
        if levels != h["levels"]:
            problems.append(f"{h['name']}: levels {h['levels']} != {levels}")
        vc = col.astype(str).value_counts()
        counts = [int(vc.get(l, 0)) for l in levels] + [int(col.isna().sum())]
        if counts != h["counts"]:
            problems.append(f"{h['name']}: counts {h['counts']} != pandas {counts}")

# The schema's features are the CSV's columns but the label, in order, with
# pandas' view of which are numbers.
want = [c for c in df.columns if c != schema["label"]]
got = [f["name"] for f in schema["features"]]
if got != want:
    problems.append(f"schema features {got} != {want}")
for f in schema["features"]:
    numeric = pd.api.types.is_numeric_dtype(df[f["name"]])
    if numeric != (f["type"] == "numeric"):
        problems.append(f"{f['name']}: type {f['type']} but pandas dtype {df[f['name']].dtype}")

# MLflow itself must accept the dataset schema.
colspec = json.load(open(mlflow_schema_path))["mlflow_colspec"]
try:
    s = mlflow.types.Schema.from_json(json.dumps(colspec))
    if s.input_names() != want + [schema["label"]]:
        problems.append(f"mlflow schema names {s.input_names()}")
except Exception as e:  # noqa: BLE001 - report whatever mlflow raises
    problems.append(f"mlflow rejects the dataset schema: {e!r}")

for p in problems:
    print(p)
print(f"checked {len(profile['features'])} features, {len(problems)} problems")
sys.exit(1 if problems else 0)
