"""Repeat a run's training with Python LightGBM on its split manifest's rows.

usage: manifest_lightgbm.py DATA.csv MANIFEST.json MODEL_DIR OUT.json

Reads the input as pandas does (row numbers = the manifest's), encodes each
feature as the run's schema.json says (numbers; categories as codes into
the levels), takes the manifest's train, validation and test rows, trains
lightgbm.train with the parameters recorded in the run's model.lgb
(objective, learning rate, leaves, iterations, early stopping on the
validation rows, seed...) and writes {"test_auc", "best_iteration",
"num_trees", "lightgbm"}.
"""
import json
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd

# Parameters of our model file that lightgbm.train takes as they are.
KEEP = ["objective", "learning_rate", "num_leaves", "max_depth", "min_data_in_leaf",
        "min_sum_hessian_in_leaf", "lambda_l1", "lambda_l2", "min_gain_to_split",
        "feature_fraction", "bagging_fraction", "bagging_freq", "max_bin",
        "min_data_in_bin", "max_cat_to_onehot", "cat_smooth", "cat_l2", "max_cat_threshold",
        "min_data_per_group", "seed", "early_stopping_round", "num_iterations"]


def params_of(model_file):
    params, inside = {}, False
    with open(model_file) as f:
        for line in f:
            line = line.strip()
            if line == "parameters:":
                inside = True
                continue
            if line == "end of parameters":
                break
            if inside and line.startswith("[") and ": " in line:
                k, v = line[1:-1].split(": ", 1)
                params[k] = v
    return params


def auc(y, s):
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def main():
    data_path, manifest_path, model_dir, out_path = sys.argv[1:5]
    with open(manifest_path) as f:
        manifest = json.load(f)
    with open(f"{model_dir}/schema.json") as f:
        schema = json.load(f)
    raw = pd.read_csv(data_path, dtype=str, keep_default_na=False)
    assert len(raw) == manifest["rows"], (len(raw), manifest["rows"])
    cols, cats = {}, []
    for k, ft in enumerate(schema["features"]):
        values = raw[ft["name"]].str.strip()
        if ft["type"] == "categorical":
            code = {level: float(i) for i, level in enumerate(ft["levels"])}
            cols[ft["name"]] = [code.get(v, np.nan) for v in values]
            cats.append(k)
        else:
            cols[ft["name"]] = pd.to_numeric(values.replace("", np.nan))
    x = pd.DataFrame(cols, dtype="float64").to_numpy()
    y = (raw[schema["label"]].str.strip() == schema["positive"]).to_numpy(dtype=np.float64)
    ours = params_of(f"{model_dir}/model.lgb")
    params = {k: ours[k] for k in KEEP if k in ours}
    for k, v in params.items():
        try:
            params[k] = int(v)
        except ValueError:
            try:
                params[k] = float(v)
            except ValueError:
                pass
    params.update({"verbose": -1, "num_threads": 1, "deterministic": True})
    tr, va, te = (np.array(manifest[p], dtype=np.int64) for p in ("train", "validation", "test"))
    names = [ft["name"] for ft in schema["features"]]
    dtrain = lgb.Dataset(x[tr], y[tr], feature_name=names, categorical_feature=cats)
    dvalid = lgb.Dataset(x[va], y[va], reference=dtrain)
    booster = lgb.train(params, dtrain, valid_sets=[dvalid])
    s = booster.predict(x[te], num_iteration=booster.best_iteration or None)
    with open(out_path, "w") as f:
        json.dump({"test_auc": float(auc(y[te], s)), "best_iteration": booster.best_iteration,
                   "num_trees": booster.num_trees(), "params": params, "lightgbm": lgb.__version__}, f)


if __name__ == "__main__":
    main()
