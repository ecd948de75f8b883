"""Trains LightGBM on Taiwan across a Dask cluster and logs it as a Python
team would: lightgbm.DaskLGBMClassifier on a dask.distributed LocalCluster
of two worker processes, the booster logged with mlflow.lightgbm.log_model
(signature inferred) and registered.

Usage: MLFLOW_TRACKING_URI=... dask_train.py TAIWAN_CSV NAME ROUNDS OUT_DIR

One row in five (ID % 5 == 0) is held out; OUT_DIR gets holdout.csv (every
column, for pipeline promote --data) and result.json: the registered
version, the model URI, the held-out rows' features as records, and the
booster's own predict_proba for them.
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import dask.dataframe as dd
import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pandas as pd
from dask.distributed import Client, LocalCluster
from mlflow.models import infer_signature

LABEL = "default payment next month"


def main():
    csv, name, rounds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    df = pd.read_csv(csv)
    held = df["ID"] % 5 == 0
    holdout, train = df[held], df[~held]
    holdout.to_csv(os.path.join(out, "holdout.csv"), index=False)
    features = [c for c in df.columns if c not in ("ID", LABEL)]

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        X = dd.from_pandas(train[features], npartitions=2)
        y = dd.from_pandas(train[LABEL], npartitions=2)
        clf = lgb.DaskLGBMClassifier(client=client, n_estimators=rounds, num_leaves=15,
                                     learning_rate=0.1, verbose=-1, random_state=7)
        clf.fit(X, y)
        workers = len(client.scheduler_info()["workers"])
        local = clf.to_local()

    proba = local.predict_proba(holdout[features])[:, 1]
    booster = local.booster_
    signature = infer_signature(holdout[features], proba)
    mlflow.set_experiment("engines-dask")
    with mlflow.start_run() as run:
        info = mlflow.lightgbm.log_model(booster, name="model", signature=signature,
                                         registered_model_name=name)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump({
            "version": str(info.registered_model_version),
            "model_uri": info.model_uri,
            "run_id": run.info.run_id,
            "workers": workers,
            "trees": booster.num_trees(),
            "records": holdout[features].to_dict(orient="records"),
            "probabilities": [float(p) for p in proba],
            "lightgbm": lgb.__version__,
            "mlflow": mlflow.__version__,
        }, f)


if __name__ == "__main__":
    main()
