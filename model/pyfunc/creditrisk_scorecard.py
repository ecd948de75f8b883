"""MLflow pyfunc loader of a creditrisk points scorecard (flavor creditrisk_scorecard).

The Go engine writes this file into the model directory's code/ folder and
names it as the python_function flavor's loader_module, so that

    mlflow.pyfunc.load_model(model_dir).predict(df)

returns the probability of default of each row, the same numbers as
`pipeline predict` and serve. It needs numpy and pandas only and works with
MLflow 2.x and 3.x.

df holds the applicant data as it is: values are read by the rules of
creditrisk_pyfunc (shipped beside this file), which `pipeline predict`
and serve follow too: a category as its level string or its code, the
same spellings of a missing value. The arithmetic follows the Go model exactly:
the log-odds are the intercept plus, feature by feature in schema order,
coefficient times the WoE of the row's bin; a numeric value x falls in bin
i when splits[i-1] <= x < splits[i].
"""
import json
import math
import os

import numpy as np
import pandas as pd

from creditrisk_pyfunc import Encoder

FORMAT_VERSION = 1


def _load_pyfunc(path, model_config=None):
    """MLflow's loader hook: path is the scorecard file (flavor data)."""
    return ScorecardModel(path)


class ScorecardModel:
    """A loaded scorecard; predict gives probabilities of default."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
        if card.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {card.get('format_version')}, want {FORMAT_VERSION}")
        with open(os.path.join(os.path.dirname(path), "schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        names = [ft["name"] for ft in schema["features"]]
        if [ft["name"] for ft in card["features"]] != names:
            raise ValueError(f"{path}: features differ from schema.json")
        self.intercept = float(card["intercept"])
        self.names = names
        self.encoder = Encoder(schema["features"])
        self.features = []  # (name, kind, lookup, woe per bin, missing woe, coef)
        for ft, sf in zip(card["features"], schema["features"]):
            if not ft["selected"]:
                continue
            woe = np.array([b["woe"] for b in ft["bins"]], dtype=np.float64)
            if ft["type"] == "categorical":
                bin_of = {}
                for i, b in enumerate(ft["bins"]):
                    for level in b.get("levels") or []:
                        bin_of[level] = i
                lookup = np.array([bin_of[level] for level in sf["levels"]], dtype=np.int64)
            else:
                lookup = np.array(ft.get("splits") or [], dtype=np.float64)
            self.features.append((ft["name"], ft["type"], lookup, woe, float(ft["missing"]["woe"]), float(ft["coef"])))

    def _bin_woe(self, kind, lookup, woe, missing, x):
        out = np.full(x.shape, missing, dtype=np.float64)
        if kind == "categorical":
            ok = ~np.isnan(x) & (x >= 0) & (x < len(lookup)) & (x == np.trunc(x))
            out[ok] = woe[lookup[x[ok].astype(np.int64)]]
        else:
            ok = ~np.isnan(x)
            out[ok] = woe[np.searchsorted(lookup, x[ok], side="right")]
        return out

    def log_odds(self, model_input):
        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input, columns=self.names)
        x = self.encoder.matrix(df)
        s = np.full(len(df), self.intercept, dtype=np.float64)
        for name, kind, lookup, woe, miss, coef in self.features:
            s = s + coef * self._bin_woe(kind, lookup, woe, miss, x[:, self.names.index(name)])
        return s

    def predict(self, model_input, params=None):
        e = self.log_odds(model_input)
        return np.array([_sigmoid(v) for v in e], dtype=np.float64)


def _sigmoid(e):
    # The same branches as the Go model, for the same rounding.
    if e >= 0:
        return 1.0 / (1.0 + math.exp(-e))
    z = math.exp(e)
    return z / (1.0 + z)
