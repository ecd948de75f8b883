"""Reference values for the evaluate package from scikit-learn, scipy and
numpy, on scores.csv (calibration, ECE, lift and PSI are written here in
numpy from their definitions in the Go doc comments). TestSklearnGolden compares the Go results with the
committed output; TestSklearnReferenceLive reruns this script with the
stack's PIPELINE_PYTHON and checks it still gives the committed values.

Produced with scikit-learn 1.9.1, scipy 1.17.1, numpy 2.4.6:
    /tmp/ev/bin/python testdata/sklearn_reference.py testdata/scores.csv \
        > testdata/sklearn_golden.json
"""
import json
import sys

import numpy as np
from scipy.stats import ks_2samp
from sklearn.metrics import (accuracy_score, brier_score_loss, confusion_matrix,
                             f1_score, log_loss, precision_score, recall_score,
                             roc_auc_score)

CUTOFF = 0.3

data = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
y = data["label"].astype(int)
out = {"cutoff": CUTOFF, "columns": {}}
for col in ("score_a", "score_b", "score_t"):
    p = data[col]
    pred = (p >= CUTOFF).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    out["columns"][col] = {
        "auc": roc_auc_score(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier_score_loss(y, p),
        "ks": float(ks_2samp(p[y == 1], p[y == 0]).statistic),
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred),
        "f1": f1_score(y, pred),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }

# Calibration and lift tables (numpy): ten groups of rows cut at positions
# floor(g*n/10) of the stable ascending sort (calibration) or of its reverse
# (lift, highest scores first).
def groups(order):
    n = len(order)
    return [order[g * n // 10:(g + 1) * n // 10] for g in range(10)]


for col in ("score_a", "score_t"):
    p = data[col]
    asc = np.argsort(p, kind="stable")
    cal = [{"count": len(g), "mean_predicted": float(p[g].mean()), "observed_rate": float(y[g].mean())}
           for g in groups(asc)]
    ece = sum(c["count"] * abs(c["mean_predicted"] - c["observed_rate"]) for c in cal) / len(p)
    lift, cum = [], 0
    for g in groups(asc[::-1]):
        cum += int(y[g].sum())
        lift.append({"bads": int(y[g].sum()), "lift": float(y[g].mean() / y.mean()),
                     "gains": cum / int(y.sum())})
    out["columns"][col].update(calibration=cal, ece=ece, lift=lift)

# PSI of score_b against score_a: bins cut at numpy's linear deciles of the
# expected sample, right-closed, empty shares raised to 1e-4.
exp, act = data["score_a"], data["score_b"]
cuts = np.unique(np.quantile(exp, np.arange(1, 10) / 10))
e = np.bincount(np.searchsorted(cuts, exp, side="left"), minlength=len(cuts) + 1) / len(exp)
a = np.bincount(np.searchsorted(cuts, act, side="left"), minlength=len(cuts) + 1) / len(act)
e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
out["psi_b_vs_a"] = float(np.sum((a - e) * np.log(a / e)))

json.dump(out, sys.stdout, indent=2, sort_keys=True)
sys.stdout.write("\n")
