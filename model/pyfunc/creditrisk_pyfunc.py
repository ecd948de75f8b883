"""Loader of a Credit Risk Engine gbdt model for mlflow.pyfunc.

The Go pipeline writes this file into every gbdt model directory (code/)
and names it as the python_function flavor's loader_module, so that
mlflow.pyfunc.load_model(uri).predict(df) takes the applicant's data as it
is, by the rules `pipeline predict` and every endpoint of `pipeline serve`
follow (data.Encoder in the Go code; serve/README.md, "What an input
means"):

- Missing: None, NaN, and the strings "", "NA", "NaN", "null" (any case,
  surrounding spaces ignored).
- A categorical feature takes its level as text (surrounding spaces
  ignored; "2.0" finds level "2"; where no level looks like a number, a
  number in text is a code) or its code as a number (the level's index in
  schema.json, as the python_function flavor took it before the signature
  declared strings). A level not seen in training, or a code out of range,
  is scored as missing. A fractional or infinite number is refused, and so
  is any number where the levels are numbers other than their codes
  (levels "1", "2", "5": send the level as text).
- A numeric feature takes a number, or text holding one (hexadecimal and
  "1_000" refused); infinity is refused.

A refused value raises ValueError naming the row and the column. The
lightgbm flavor of the same directory is a plain LightGBM Booster and
knows none of this: it takes codes.

Works with MLflow 2.9 and 3.x, pandas 2 and 3, numpy 1 and 2.
"""
import json
import math
import os

import numpy as np
import pandas as pd

SCHEMA_FILE = "schema.json"
_MISSING = {"", "na", "nan", "null"}
_SPACES = " \t\r\n"
_NUMBER = (int, float, np.integer, np.floating)


def _load_pyfunc(data_path, model_config=None):
    """Called by mlflow.pyfunc.load_model with the model file's path."""
    return CreditRiskModel(data_path)


def _number(s):
    """Parses text as the Go schema does: ASCII, no '_' or hex; None if not."""
    if not s.isascii() or "_" in s or "x" in s or "X" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _is_missing(v):
    if v is None or v is pd.NA:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return False


class Encoder:
    """The input rules above for the features of a schema.json; the
    scorecard's loader (creditrisk_scorecard) shares them."""

    def __init__(self, features):
        self.features = features
        self._codes, self._nums, self._mode = {}, {}, {}
        for f in self.features:
            if f["type"] != "categorical":
                continue
            levels = f.get("levels") or []
            codes, nums = {}, {}
            for i, level in enumerate(levels):
                codes.setdefault(level, i)
                x = _number(level)
                if x is not None and math.isfinite(x):
                    nums.setdefault(x, i)
            mode = "codes"  # no level looks like a number
            if nums:
                agree = len(nums) == len(levels) and all(x == c for x, c in nums.items())
                mode = "agree" if agree else "ambiguous"
            name = f["name"]
            self._codes[name], self._nums[name], self._mode[name] = codes, nums, mode

    def _code(self, name, x, row, got):
        if math.isinf(x):
            raise ValueError(f"row {row}, column {name!r}: {got!r} is not finite")
        if x != math.trunc(x):
            raise ValueError(f"row {row}, column {name!r}: {got!r} is not a category code (an integer)")
        if x < 0 or x >= len(self._codes[name]):
            return math.nan  # a code not seen in training
        return float(x) + 0.0

    def _category(self, name, v, row):
        if _is_missing(v):
            return math.nan
        if isinstance(v, (bool, np.bool_)):
            raise ValueError(f"row {row}, column {name!r}: {v!r} is neither a level nor a code")
        if isinstance(v, _NUMBER):
            if self._mode[name] == "ambiguous":
                raise ValueError(f"row {row}, column {name!r}: {v!r} is ambiguous: the levels are "
                                 "numbers other than their codes; send the level as a string")
            return self._code(name, float(v), row, v)
        if not isinstance(v, str):
            raise ValueError(f"row {row}, column {name!r}: a {type(v).__name__} is neither a level nor a code")
        codes = self._codes[name]
        if v in codes:
            return float(codes[v])
        t = v.strip(_SPACES)
        if t.lower() in _MISSING:
            return math.nan
        if t in codes:
            return float(codes[t])
        x = _number(t)
        if x is not None:
            if x in self._nums[name]:
                return float(self._nums[name][x])
            if self._mode[name] == "codes":
                return self._code(name, x, row, v)
        return math.nan  # a level not seen in training

    def _numeric(self, name, v, row):
        if _is_missing(v):
            return math.nan
        if isinstance(v, (bool, np.bool_)):
            raise ValueError(f"row {row}, column {name!r}: {v!r} is not a number")
        if isinstance(v, _NUMBER):
            x = float(v)
        elif isinstance(v, str):
            t = v.strip(_SPACES)
            if t.lower() in _MISSING:
                return math.nan
            x = _number(t)
            if x is None:
                raise ValueError(f"row {row}, column {name!r}: {v[:64]!r} is not a number")
        else:
            raise ValueError(f"row {row}, column {name!r}: a {type(v).__name__} is not a number")
        if math.isinf(x):
            raise ValueError(f"row {row}, column {name!r}: {v!r} is not finite")
        return x

    def matrix(self, df):
        """The rows of df as LightGBM's input, in the schema's order."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        x = np.full((len(df), len(self.features)), np.nan)
        for j, f in enumerate(self.features):
            name = f["name"]
            if name not in df.columns:
                if f.get("required", True):
                    raise ValueError(f"column {name!r} is missing (a required feature)")
                continue
            one = self._category if f["type"] == "categorical" else self._numeric
            x[:, j] = [one(name, v, r) for r, v in enumerate(df[name].tolist())]
        return x


class CreditRiskModel:
    """A LightGBM booster with the schema of its features."""

    def __init__(self, model_path):
        import lightgbm

        with open(os.path.join(os.path.dirname(model_path), SCHEMA_FILE), encoding="utf-8") as f:
            schema = json.load(f)
        self.features = schema["features"]
        self.booster = lightgbm.Booster(model_file=model_path)
        self.encoder = Encoder(self.features)

    def matrix(self, df):
        """The rows of df as LightGBM's input, in the schema's order."""
        return self.encoder.matrix(df)

    def predict(self, model_input, params=None):
        """Probabilities of the positive class, one per row."""
        return self.booster.predict(self.matrix(model_input))

    def get_raw_model(self):
        return self.booster
