"""Writes scores.csv: 1,000 German-credit-like rows (30% bad) with three
score columns for the cross-checks against scikit-learn / scipy / numpy.

score_a  a good model (AUC ~0.78); exact 0.0 and 1.0 in a few rows to
         exercise log-loss clipping
score_b  a weaker model correlated with score_a
score_t  score_a rounded to one decimal: heavy ties

Run once (the CSV is committed; the Go tests never run this):
    python3 -m venv /tmp/ev && /tmp/ev/bin/pip install numpy scipy scikit-learn
    /tmp/ev/bin/python testdata/make_scores.py > testdata/scores.csv
"""
import sys

import numpy as np

rng = np.random.default_rng(20261125)
n = 1000
risk = rng.normal(size=n)
label = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * risk)))).astype(int)
a = 1 / (1 + np.exp(-(-1.0 + 1.2 * risk + rng.normal(scale=0.6, size=n))))
b = 1 / (1 + np.exp(-(-0.9 + 0.8 * risk + rng.normal(scale=1.0, size=n))))
a = np.round(a, 6)
b = np.round(b, 6)
a[[3, 17]] = 0.0
a[[5, 29]] = 1.0
t = np.round(a, 1)

out = sys.stdout
out.write("label,score_a,score_b,score_t\n")
for row in zip(label, a, b, t):
    out.write("%d,%r,%r,%r\n" % (row[0], float(row[1]), float(row[2]), float(row[3])))
