"""Scores a CSV on Apache Spark with mlflow.pyfunc.spark_udf, as a team
whose batch outgrew one machine would: Spark in local mode (local[2], two
shuffle partitions, to stay small on a shared machine).

Usage: MLFLOW_TRACKING_URI=... spark_score.py MODEL_URI CSV OUT_JSON

The CSV is read as pyfunc_csv.py reads it (the columns the signature
declares as strings as text), turned into a Spark DataFrame, and scored
by a UDF over the signature's columns. Writes {"ids": [...],
"probabilities": [...], "partitions": N, "spark": VERSION} ordered by ID.
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import mlflow.pyfunc
import pandas as pd
import pyspark
from pyspark.sql import SparkSession
from pyspark.sql.functions import col, struct

uri, path, out = sys.argv[1:4]
# Spark's Python workers run "python3" from PATH unless told: this
# interpreter is the one with mlflow and lightgbm.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
spark = (SparkSession.builder.master("local[2]").appName("spark-score")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.memory", "1g")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
try:
    meta = mlflow.models.get_model_info(uri)
    inputs = meta.signature.inputs.inputs
    strings = [c.name for c in inputs if getattr(c.type, "name", str(c.type)) == "string"]
    pdf = pd.read_csv(path, dtype={c: str for c in strings})
    sdf = spark.createDataFrame(pdf)  # local[2]: two partitions
    udf = mlflow.pyfunc.spark_udf(spark, uri, result_type="double", env_manager="local")
    scored = sdf.select(col("ID"), udf(struct(*[col(c.name) for c in inputs])).alias("p"))
    rows = sorted(scored.collect(), key=lambda r: r["ID"])
    with open(out, "w") as f:
        json.dump({"ids": [int(r["ID"]) for r in rows],
                   "probabilities": [float(r["p"]) for r in rows],
                   "partitions": sdf.rdd.getNumPartitions(),
                   "spark": pyspark.__version__}, f)
finally:
    spark.stop()
