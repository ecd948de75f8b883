"""Python LightGBM side of gbdt's cross-checks (compat_test.go) and benchmark.

    compat.py train DATA.csv SPLIT.json PARAMS.json CATEGORICAL OUTDIR
        Trains on the split's train rows (validation rows as valid set),
        saves OUTDIR/model.txt and writes OUTDIR/result.json with the raw
        scores of the test rows, the training's wall and CPU time and, on
        Linux, the resident memory before training and its peak during
        training (MiB). CATEGORICAL: comma-separated feature indices, or "-".
    compat.py predict MODEL.txt DATA.csv NCONTRIB OUT.json
        Loads a model file and writes the raw scores of every row and the
        pred_contrib values of the first NCONTRIB rows.
    compat.py predict_bench MODEL.txt DATA.csv ROWS REPEAT THREADS
        Times booster.predict on the first ROWS rows (median of REPEAT runs)
        and prints a JSON line (scripts/bench-gbdt).

DATA.csv has the features and a last "label" column; empty cells are
missing. Features go to LightGBM as a float64 numpy array, in file order.
"""
import gc
import json
import re
import resource
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd


def load(path):
    df = pd.read_csv(path)
    y = df.pop("label").to_numpy(dtype=np.float64)
    return df.to_numpy(dtype=np.float64), y, list(df.columns)


def memory_mib(field):
    """VmRSS or VmHWM (peak) of this process in MiB; None off Linux."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(field + r":\s+(\d+)", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return None


def reset_peak():
    """Resets VmHWM to the current resident size (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def train(data, split_path, params_path, categorical, outdir):
    x, y, names = load(data)
    with open(split_path) as f:
        split = json.load(f)
    with open(params_path) as f:
        params = json.load(f)
    cat = [] if categorical == "-" else [int(c) for c in categorical.split(",")]
    tr, va, te = (np.array(split[k], dtype=np.int64) for k in ("train", "valid", "test"))
    dtrain = lgb.Dataset(x[tr], y[tr], feature_name=names, categorical_feature=cat)
    valid_sets = []
    if len(va):
        valid_sets = [lgb.Dataset(x[va], y[va], reference=dtrain)]
    gc.collect()
    rss_before = memory_mib("VmRSS")
    reset_peak()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    booster = lgb.train(params, dtrain, valid_sets=valid_sets)
    seconds = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    peak = memory_mib("VmHWM")
    booster.save_model(f"{outdir}/model.txt")
    raw = booster.predict(x[te], raw_score=True)
    with open(f"{outdir}/result.json", "w") as f:
        json.dump({"test_raw": raw.tolist(), "train_seconds": seconds, "train_cpu_seconds": cpu,
                   "train_rss_before_mib": rss_before, "train_peak_rss_mib": peak,
                   "num_trees": booster.num_trees(), "lightgbm": lgb.__version__}, f)


def predict(model, data, ncontrib, out):
    x, _, _ = load(data)
    booster = lgb.Booster(model_file=model)
    raw = booster.predict(x, raw_score=True)
    contrib = booster.predict(x[: int(ncontrib)], pred_contrib=True)
    with open(out, "w") as f:
        json.dump({"raw": raw.tolist(), "contrib": np.asarray(contrib).tolist()}, f)


def predict_bench(model, data, rows, repeat, threads):
    x, _, _ = load(data)
    x = np.ascontiguousarray(x[: int(rows)])
    booster = lgb.Booster(model_file=model)
    times = []
    for _ in range(int(repeat)):
        start = time.perf_counter()
        booster.predict(x, num_threads=int(threads))
        times.append(time.perf_counter() - start)
    med = sorted(times)[len(times) // 2]
    print(json.dumps({"rows": len(x), "median_seconds": round(med, 4),
                      "rows_per_second": round(len(x) / med), "runs": len(times)}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"train": train, "predict": predict, "predict_bench": predict_bench}[cmd](*args)
