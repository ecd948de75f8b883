"""Read a model directory's MLmodel and input example with MLflow's own
classes (any MLflow version: the test runs it with 3.x and 2.9.2).

usage: read_mlmodel.py MODEL_DIR OUT_JSON

Writes {"mlflow", "flavors", "inputs": [names], "required": [bools],
"example_rows": n, "example_columns": [names]}.
"""
import json
import os
import sys

import mlflow
from mlflow.models import Model


def main():
    model_dir, out_path = sys.argv[1:3]
    m = Model.load(os.path.join(model_dir, "MLmodel"))
    cols = m.signature.inputs.inputs
    required = [getattr(c, "required", None) for c in cols]
    if required[0] is None:  # MLflow 2.x
        required = [not c.optional for c in cols]
    example = m.load_input_example(model_dir)
    with open(out_path, "w") as f:
        json.dump({"mlflow": mlflow.__version__,
                   "flavors": sorted(m.flavors),
                   "inputs": [c.name for c in cols],
                   "required": required,
                   "example_rows": len(example),
                   "example_columns": list(example.columns)}, f)


if __name__ == "__main__":
    main()
