"""Hosmer-Lemeshow test computed independently with numpy and scipy.

usage: hosmer_lemeshow.py SCORES.json OUT.json

SCORES.json is {"labels": [...], "scores": [...]}. Sorts by score, cuts ten
groups of equal size (numpy.array_split), and writes {"statistic",
"p_value", "df"}: H = sum (O - E)^2 / (E (1 - E/n)), p = chi2.sf(H, 8).
"""
import json
import sys

import numpy as np
from scipy.stats import chi2


def main():
    with open(sys.argv[1]) as f:
        d = json.load(f)
    y, p = np.array(d["labels"]), np.array(d["scores"])
    order = np.argsort(p, kind="mergesort")
    h = 0.0
    groups = np.array_split(order, 10)
    for g in groups:
        n, o, e = len(g), y[g].sum(), p[g].sum()
        h += (o - e) ** 2 / (e * (1 - e / n))
    with open(sys.argv[2], "w") as f:
        json.dump({"statistic": h, "p_value": float(chi2.sf(h, len(groups) - 2)), "df": len(groups) - 2}, f)


if __name__ == "__main__":
    main()
