"""Write a model directory the way a Python colleague would: LightGBM 4.x
trained on a DataFrame with pandas category columns, saved with
mlflow.lightgbm.save_model (signature and input example inferred).

usage: make_python_lgbm.py GERMAN_CSV OUT_DIR PREDICTIONS_JSON

PREDICTIONS_JSON gets the Booster's probabilities for every row of the CSV
(as LightGBM computes them from the category columns), which the Go test
compares with its own predictions for the same rows. The committed fixture
testdata/python_lgbm/ was made with this script (mlflow 3.17.2, lightgbm 4.7.0).
"""
import json
import sys
import warnings

import lightgbm as lgb
import mlflow.lightgbm
import pandas as pd
from mlflow.models import infer_signature


def main():
    csv_path, out_dir, pred_path = sys.argv[1:4]
    df = pd.read_csv(csv_path)
    y = (df.pop("creditability") == "bad").astype(int)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype("category")
    params = {"objective": "binary", "num_leaves": 8, "learning_rate": 0.1,
              "min_data_in_leaf": 20, "verbose": -1, "num_threads": 1, "seed": 7}
    booster = lgb.train(params, lgb.Dataset(df, y), num_boost_round=20)
    pred = booster.predict(df)
    signature = infer_signature(df, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # MLflow's own check of the input example fails (pyfunc turns the
        # category columns into strings, which LightGBM rejects); it only
        # logs a warning, and the directory is written as usual.
        mlflow.lightgbm.save_model(booster, out_dir, signature=signature,
                                   input_example=df.head(3))
    with open(pred_path, "w") as f:
        json.dump({"probabilities": [float(p) for p in pred],
                   "lightgbm": lgb.__version__, "mlflow": mlflow.__version__}, f)


if __name__ == "__main__":
    main()
