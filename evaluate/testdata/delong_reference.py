"""DeLong's test for two correlated ROC curves, written directly from
DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837-845, with the
O(m*n) pairwise kernel psi(X, Y) = 1 if X > Y, 1/2 if X == Y, 0 otherwise
(no ranks, so it is independent of the Go code's Sun & Xu midrank
algorithm). The p-value comes from scipy.stats.norm.

    V10[r](X_i) = mean_j psi(X_i^r, Y_j^r)     (structural components)
    V01[r](Y_j) = mean_i psi(X_i^r, Y_j^r)
    AUC[r]      = mean_i V10[r](X_i)
    S10[r,s]    = sum_i (V10[r](X_i)-AUC[r]) (V10[s](X_i)-AUC[s]) / (m-1)
    S01[r,s]    = likewise over the n negatives / (n-1)
    S           = S10/m + S01/n
    var(A-B)    = S[0,0] + S[1,1] - 2 S[0,1],  z = (A-B)/sqrt(var)

Produced with numpy 2.4.6, scipy 1.17.1:
    /tmp/ev/bin/python testdata/delong_reference.py testdata/scores.csv \
        > testdata/delong_golden.json
"""
import json
import sys

import numpy as np
from scipy.stats import norm


def components(x, y):
    """Structural components of one model: x bad scores, y good scores."""
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def delong(label, a, b):
    pos, neg = label == 1, label == 0
    m, n = pos.sum(), neg.sum()
    v10, v01 = zip(*(components(s[pos], s[neg]) for s in (a, b)))
    v10, v01 = np.array(v10), np.array(v01)
    auc = v10.mean(axis=1)
    s = np.cov(v10, ddof=1) / m + np.cov(v01, ddof=1) / n
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    se = np.sqrt(var)
    z = (auc[0] - auc[1]) / se
    return {
        "auc_a": auc[0], "auc_b": auc[1], "diff": auc[0] - auc[1],
        "var_a": s[0, 0], "var_b": s[1, 1], "cov": s[0, 1],
        "variance": var, "std_err": se, "z": z, "p": 2 * norm.sf(abs(z)),
    }


data = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
label = data["label"].astype(int)
out = {}
for a, b in (("score_a", "score_b"), ("score_a", "score_t"), ("score_b", "score_t")):
    out[a + "_vs_" + b] = {k: float(v) for k, v in delong(label, data[a], data[b]).items()}
json.dump(out, sys.stdout, indent=2, sort_keys=True)
sys.stdout.write("\n")
