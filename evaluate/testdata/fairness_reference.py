"""Fair-lending metrics computed directly with pandas and scikit-learn, the
reference of evaluate.Fairness.

Usage: fairness_reference.py SCORES_CSV CUTOFF

SCORES_CSV has the columns label (1 = bad), score (probability of default)
and one column per protected characteristic holding each row's group. An
applicant is declined when score >= CUTOFF. Prints, per characteristic,
each group's rows, bads, approvals, approval rate, adverse impact ratio
(approval rate over the highest), AUC (null without both classes) and TPR
(share of bads declined; null without bads), and the minimum ratio and the
TPR gap, as JSON.
"""
import json
import sys

import pandas as pd
from sklearn.metrics import roc_auc_score


def main():
    path, cutoff = sys.argv[1], float(sys.argv[2])
    df = pd.read_csv(path, keep_default_na=False, dtype={"label": int, "score": float})
    df["approved"] = df["score"] < cutoff
    out = {}
    for col in [c for c in df.columns if c not in ("label", "score", "approved")]:
        groups = []
        for name, g in sorted(df.groupby(col, sort=False), key=lambda kv: str(kv[0]).encode()):
            bads = g[g["label"] == 1]
            groups.append({
                "group": str(name),
                "rows": int(len(g)),
                "bads": int(len(bads)),
                "approved": int(g["approved"].sum()),
                "approval_rate": float(g["approved"].mean()),
                "auc": float(roc_auc_score(g["label"], g["score"])) if g["label"].nunique() == 2 else None,
                "tpr": float((~bads["approved"]).mean()) if len(bads) else None,
            })
        top = max(g["approval_rate"] for g in groups)
        for g in groups:
            g["adverse_impact_ratio"] = g["approval_rate"] / top
        tprs = [g["tpr"] for g in groups if g["tpr"] is not None]
        out[col] = {
            "cutoff": cutoff,
            "groups": groups,
            "min_adverse_impact_ratio": min(g["adverse_impact_ratio"] for g in groups),
            "tpr_gap": max(tprs) - min(tprs) if len(tprs) > 1 else 0.0,
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
