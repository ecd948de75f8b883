"""Fair-lending figures of a run's test split, computed directly with pandas.

usage: fairness_pandas.py HOLDOUT.csv SCORES.json SPEC.json OUT.json

SCORES.json is the list of probabilities of default of the holdout's rows;
SPEC.json {"cutoff": c, "label": col, "positive": value, "protected":
[{"column": ..., "bands": [...]}]}. A row is approved when its probability
is below the cut-off. Writes {column: {group: {approval_rate,
adverse_impact_ratio, auc, tpr}}, "<column>/tpr_gap": ..., ...}: the AUC by
scikit-learn's roc_auc_score, bands by pandas.cut with closed-left
intervals.
"""
import json
import math
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def band_names(edges):
    f = lambda v: f"{v:g}"
    names = [f"< {f(edges[0])}"]
    names += [f"{f(a)} to < {f(b)}" for a, b in zip(edges, edges[1:])]
    return names + [f">= {f(edges[-1])}"]


def main():
    holdout, scores_path, spec_path, out_path = sys.argv[1:5]
    df = pd.read_csv(holdout, dtype=str, keep_default_na=False)
    with open(scores_path) as f:
        df["pd"] = json.load(f)
    with open(spec_path) as f:
        spec = json.load(f)
    df["bad"] = (df[spec["label"]].str.strip() == spec["positive"]).astype(int)
    df["approved"] = df["pd"] < spec["cutoff"]
    out = {}
    for p in spec["protected"]:
        col = p["column"]
        if p.get("bands"):
            edges = p["bands"]
            df["group"] = pd.cut(pd.to_numeric(df[col]), [-math.inf] + edges + [math.inf],
                                 right=False, labels=band_names(edges)).astype(str)
        else:
            df["group"] = df[col].str.strip()
        rates = df.groupby("group")["approved"].mean()
        groups = {}
        for g, rows in df.groupby("group"):
            r = {"approval_rate": float(rates[g]), "adverse_impact_ratio": float(rates[g] / rates.max())}
            if rows["bad"].nunique() == 2:
                r["auc"] = float(roc_auc_score(rows["bad"], rows["pd"]))
            bads = rows[rows["bad"] == 1]
            if len(bads):
                r["tpr"] = float((~bads["approved"]).mean())
            groups[g] = r
        out[col] = groups
        tprs = [r["tpr"] for r in groups.values() if "tpr" in r]
        out[col + "/tpr_gap"] = float(max(tprs) - min(tprs)) if len(tprs) > 1 else 0.0
        out[col + "/min_adverse_impact_ratio"] = float(min(r["adverse_impact_ratio"] for r in groups.values()))
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
