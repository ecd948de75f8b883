"""Independent fit for the logistic family: scikit-learn's
LogisticRegression on the German credit CSV, encoded as the Go model
encodes it (numeric columns standardised with the population standard
deviation, categorical columns one-hot over their sorted levels, intercept
not penalised), with C = 1/l2.

usage: sklearn_fit.py GERMAN_CSV L2 OUT_JSON

Writes {"intercept": b, "coef": {"name": w, "name=level": w, ...}}.
testdata/sklearn_german_l2_2.json was made with L2=2 (scikit-learn 1.9.1).
"""
import json
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression


def main():
    csv_path, l2, out_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    df = pd.read_csv(csv_path)
    y = (df.pop("creditability") == "bad").astype(int).to_numpy()
    cols, names = [], []
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c]):
            v = df[c].to_numpy(dtype=float)
            cols.append((v - v.mean()) / v.std())
            names.append(c)
        else:
            for level in sorted(df[c].unique()):
                cols.append((df[c] == level).to_numpy(dtype=float))
                names.append(f"{c}={level}")
    X = np.column_stack(cols)
    lr = LogisticRegression(C=1.0 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    lr.fit(X, y)
    with open(out_path, "w") as f:
        json.dump({"intercept": float(lr.intercept_[0]),
                   "coef": {n: float(w) for n, w in zip(names, lr.coef_[0])},
                   "l2": l2, "sklearn": sklearn.__version__}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
