"""Loader of a Credit Risk Engine gbdt model for mlflow.pyfunc.

The Go pipeline writes this file into every gbdt model directory (code/)
and names it as the python_function flavor's loader_module, so that
mlflow.pyfunc.load_model(uri).predict(df) takes the applicant's data as it
is: the level strings of categorical features (as `pipeline predict` and
serve take them), numbers for numeric features, None/NaN for missing. A
number in a categorical column is still taken as the category's code (an
index into the feature's levels), as the python_function flavor took it
before the signature declared strings.

Strings are matched as the Go schema matches them (data/schema.go): the
exact level; else, trimmed, one of "", "NA", "NaN", "null" (any case) is
missing; else the trimmed level; else a number equal to a numeric level
("2.0" finds "2"); else the level was not seen in training and the value
is missing. The lightgbm flavor of the same directory is a plain LightGBM
Booster and knows none of this: it takes codes.

Works with MLflow 2.9 and 3.x, pandas 2 and 3, numpy 1 and 2.
"""
import json
import math
import os

import numpy as np
import pandas as pd

SCHEMA_FILE = "schema.json"
_MISSING = {"", "na", "nan", "null"}


def _load_pyfunc(data_path, model_config=None):
    """Called by mlflow.pyfunc.load_model with the model file's path."""
    return CreditRiskModel(data_path)


def _number(s):
    """Parses s as Go's strconv.ParseFloat does for the schema: no '_' or hex."""
    if "_" in s or "x" in s or "X" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _is_missing(v):
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


class CreditRiskModel:
    """A LightGBM booster with the schema of its features."""

    def __init__(self, model_path):
        import lightgbm

        with open(os.path.join(os.path.dirname(model_path), SCHEMA_FILE), encoding="utf-8") as f:
            schema = json.load(f)
        self.features = schema["features"]
        self.booster = lightgbm.Booster(model_file=model_path)
        self._codes = {}
        self._nums = {}
        for f in self.features:
            if f["type"] != "categorical":
                continue
            codes, nums = {}, {}
            for i, level in enumerate(f.get("levels") or []):
                codes.setdefault(level, i)
                x = _number(level)
                if x is not None and math.isfinite(x):
                    nums.setdefault(x, i)
            self._codes[f["name"]], self._nums[f["name"]] = codes, nums

    def _category(self, name, v):
        if _is_missing(v):
            return math.nan
        if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
            return float(v)  # a code, as before
        s = str(v)
        codes = self._codes[name]
        if s in codes:
            return float(codes[s])
        t = s.strip()
        if t.lower() in _MISSING:
            return math.nan
        if t in codes:
            return float(codes[t])
        x = _number(t)
        if x is not None and x in self._nums[name]:
            return float(self._nums[name][x])
        return math.nan  # a level not seen in training

    def _numeric(self, name, col):
        def one(row, v):
            if _is_missing(v):
                return math.nan
            if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
                return float(v)
            t = str(v).strip()
            if t.lower() in _MISSING:
                return math.nan
            x = _number(t)
            if x is None:
                raise ValueError(f"row {row}, column {name!r}: {v!r} is not a number")
            return x

        return [one(r, v) for r, v in enumerate(col.tolist())]

    def matrix(self, df):
        """The rows of df as LightGBM's input, in the schema's order."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        x = np.full((len(df), len(self.features)), np.nan)
        for j, f in enumerate(self.features):
            name = f["name"]
            if name not in df.columns:
                if f.get("required", True):
                    raise ValueError(f"column {name!r} is missing (required feature)")
                continue
            col = df[name]
            if f["type"] == "categorical":
                x[:, j] = [self._category(name, v) for v in col.tolist()]
            else:
                x[:, j] = self._numeric(name, col)
        return x

    def predict(self, model_input, params=None):
        """Probabilities of the positive class, one per row."""
        return self.booster.predict(self.matrix(model_input))

    def get_raw_model(self):
        return self.booster
