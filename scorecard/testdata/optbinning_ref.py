"""Reference scorecard with optbinning, on the rows of a split manifest.

Usage: optbinning_ref.py CSV LABEL POSITIVE MANIFEST OUT_JSON [IGNORE,COLS] [CATEGORICAL,COLS]

Fits optbinning's BinningProcess (selection: IV >= 0.02) and a Scorecard
(scikit-learn LogisticRegression with its defaults; PDO 20, odds 50 at 600
points) on the manifest's training rows, scores its test rows, and writes
the row counts, the test AUC, the IV and selection of each feature and the
test probabilities and scores as JSON. Row numbers in the manifest count data
rows from 0, which is pandas' default index.
"""
import json
import sys

import numpy as np
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def main():
    csv, label, positive, manifest, out = sys.argv[1:6]
    ignore = [c for c in (sys.argv[6] if len(sys.argv) > 6 else "").split(",") if c]
    cats = [c for c in (sys.argv[7] if len(sys.argv) > 7 else "").split(",") if c]
    with open(manifest) as f:
        m = json.load(f)
    df = pd.read_csv(csv, skipinitialspace=True)
    if len(df) != m["rows"]:
        sys.exit(f"{csv} has {len(df)} rows, the manifest {m['rows']}")
    y = (df[label].astype(str).str.strip() == positive).astype(int).to_numpy()
    X = df.drop(columns=[label] + ignore)
    for c in cats:
        X[c] = X[c].astype(str).str.strip()
    train, test = m["train"], m["test"]
    bp = BinningProcess(list(X.columns), categorical_variables=cats,
                        selection_criteria={"iv": {"min": 0.02}})
    sc = Scorecard(binning_process=bp, estimator=LogisticRegression(),
                   scaling_method="pdo_odds",
                   scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
    sc.fit(X.iloc[train], y[train])
    proba = sc.predict_proba(X.iloc[test])[:, 1]
    score = sc.score(X.iloc[test])
    summary = sc.binning_process_.summary()
    res = {
        "n_train": len(train),
        "n_test": len(test),
        "events_test": int(y[test].sum()),
        "auc_test": float(roc_auc_score(y[test], proba)),
        "auc_train": float(roc_auc_score(y[train], sc.predict_proba(X.iloc[train])[:, 1])),
        "iv": {r["name"]: float(r["iv"]) for _, r in summary.iterrows()},
        "n_bins": {r["name"]: int(r["n_bins"]) for _, r in summary.iterrows()},
        "selected": sorted(r["name"] for _, r in summary.iterrows() if r["selected"]),
        "proba": [float(p) for p in proba],
        "score": [float(s) for s in score],
    }
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
