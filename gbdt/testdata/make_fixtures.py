"""Writes the LightGBM-made fixtures of gbdt's tests (run by hand, committed).

    python make_fixtures.py OUTDIR

lgb_catnan.txt      binary model with categorical splits (codes past 31, so
                    multi-word bitsets) and NaN/zero missing handling
lgb_catnan.json     rows and LightGBM's raw scores and pred_contrib for them
lgb_stump.txt       a model whose trees are single leaves
lgb_linear.txt      a linear-tree model (must be refused)
lgb_multiclass.txt  a 3-class model (must be refused)
"""
import json
import math
import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd


def data(n, seed):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "num_nan": rng.normal(size=n),
        "cat_small": rng.integers(0, 6, n).astype(float),
        "num_zero": np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
        "cat_wide": rng.integers(0, 45, n).astype(float),
        "num_plain": rng.uniform(-2, 2, n),
    })
    x.loc[rng.random(n) < 0.15, "num_nan"] = np.nan
    x.loc[rng.random(n) < 0.05, "cat_small"] = np.nan
    logit = (np.nan_to_num(x["num_nan"], nan=1.5) * 0.8
             + np.where(x["cat_small"].isin([1, 4]), 1.2, -0.4)
             + np.where(x["cat_wide"] % 7 == 3, 1.5, 0.0)
             + np.where(x["cat_wide"] > 38, -1.0, 0.0)
             - 0.5 * x["num_plain"] + 0.3 * x["num_zero"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def main(out):
    x, y = data(3000, 7)
    base = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1,
            "deterministic": True, "min_data_per_group": 20, "cat_smooth": 5,
            "max_cat_to_onehot": 4}
    ds = lgb.Dataset(x.to_numpy(), y, feature_name=list(x.columns),
                     categorical_feature=[1, 3], free_raw_data=False)
    b = lgb.train({**base, "num_leaves": 8, "learning_rate": 0.2}, ds, 6)
    b.save_model(os.path.join(out, "lgb_catnan.txt"))

    rows = x.iloc[:40].to_numpy().copy()
    # Edge values: NaN everywhere, zero, unseen and negative categories,
    # a category past the bitset, exact thresholds are covered by data rows.
    rows[0, :] = np.nan
    rows[1, :] = 0.0
    rows[2, 1], rows[2, 3] = -1.0, 1000.0
    rows[3, 1], rows[3, 3] = 6.0, 44.0
    raw = b.predict(rows, raw_score=True)
    contrib = b.predict(rows, pred_contrib=True)
    enc = lambda v: None if math.isnan(v) else float(v)
    with open(os.path.join(out, "lgb_catnan.json"), "w") as f:
        json.dump({"rows": [[enc(v) for v in r] for r in rows],
                   "raw": [float(v) for v in raw],
                   "contrib": [[float(v) for v in r] for r in contrib]}, f, indent=0)
        f.write("\n")

    stump = lgb.train({**base, "min_data_in_leaf": 5000}, ds, 2)
    stump.save_model(os.path.join(out, "lgb_stump.txt"))

    xl = x[["num_plain", "num_zero"]].to_numpy()
    lin = lgb.train({**base, "linear_tree": True, "num_leaves": 3},
                    lgb.Dataset(xl, y), 1)
    lin.save_model(os.path.join(out, "lgb_linear.txt"))

    y3 = (y + (x["num_plain"] > 0).astype(int)).to_numpy()
    mc = lgb.train({**base, "objective": "multiclass", "num_class": 3, "num_leaves": 3},
                   lgb.Dataset(xl, y3), 1)
    mc.save_model(os.path.join(out, "lgb_multiclass.txt"))


if __name__ == "__main__":
    main(sys.argv[1])
