"""Train Python LightGBM on a shared credit dataset exactly as the Go tests
load and split it, and print its test AUC and training time as JSON.

usage: train_compare.py CSV LABEL POSITIVE DROP PARAMS_JSON
  DROP is a comma-separated list of columns to ignore ("" for none).
Text columns become integer codes in sorted order of their values and are
passed as categorical features; rows with index % 5 == 0 are the test set
(gbdt/train_data_test.go does the same).
"""
import json
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def main():
    path, label, positive, drop, params = sys.argv[1:6]
    params = json.loads(params)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    y = (df[label] == positive).astype(float).to_numpy()
    drop = [c for c in drop.split(",") if c]
    cols, cats = [], []
    for name in df.columns:
        if name == label or name in drop:
            continue
        col = df[name]
        try:
            vals = col.astype(float).to_numpy()
            cat = False
        except ValueError:
            levels = sorted(set(col))
            vals = col.map({v: i for i, v in enumerate(levels)}).astype(float).to_numpy()
            cat = True
        cols.append(vals)
        if cat:
            cats.append(len(cols) - 1)
    X = np.column_stack(cols)
    idx = np.arange(len(y))
    test = idx % 5 == 0
    rounds = int(params.pop("num_iterations", 100))
    params = dict(params, objective="binary", verbose=-1)
    ds = lgb.Dataset(X[~test], y[~test], categorical_feature=cats, free_raw_data=False)
    start = time.perf_counter()
    booster = lgb.train(params, ds, num_boost_round=rounds)
    elapsed = time.perf_counter() - start
    auc = roc_auc_score(y[test], booster.predict(X[test], raw_score=True))
    print(json.dumps({"auc": auc, "seconds": elapsed, "trees": booster.num_trees()}))


if __name__ == "__main__":
    main()
