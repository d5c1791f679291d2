#!/usr/bin/python3
"""The original example's batch pipeline in plain Python, as the baseline of `npm run bench -- pipeline`.

Reads a header-less CSV with pandas, scores it with XGBoost, keys every row the original's way
(sha256 of ' '.join(str(v) for v in row)), and writes `SET key label` through one redis-py
pipeline (executed every `batch` commands). Prints one JSON line with the timings.

    pipeline_baseline.py CSV MODEL REDIS_URL PREFIX [RUNS] [BATCH]

Needs Debian's python3-xgboost python3-pandas python3-redis (no PyPI). PREFIX is prepended to
every key so a shared Redis is never polluted; the keys are deleted after each run.
"""

import hashlib
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
import redis
import xgboost as xgb

LABELS = ["setosa", "versicolor", "virginica"]


def run_once(csv_path: str, booster: xgb.Booster, client: redis.Redis, prefix: str, batch: int) -> dict:
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, header=None)
    loaded = time.perf_counter()
    probabilities = booster.inplace_predict(frame.values.astype(np.float32))
    labels = [LABELS[c] for c in probabilities.argmax(axis=1)]
    scored = time.perf_counter()
    keys = [prefix + hashlib.sha256(" ".join(str(v) for v in row).encode()).hexdigest() for row in frame.values.tolist()]
    keyed = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for index, key in enumerate(keys):
        pipe.set(key, labels[index])
        if (index + 1) % batch == 0:
            pipe.execute()
    pipe.execute()
    finished = time.perf_counter()
    return {
        "rows": len(keys),
        "seconds": finished - started,
        "readSeconds": loaded - started,
        "scoreSeconds": scored - loaded,
        "keySeconds": keyed - scored,
        "ingestSeconds": finished - keyed,
    }


def main() -> None:
    csv_path, model_path, redis_url, prefix = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 10_000
    booster = xgb.Booster()
    booster.load_model(model_path)
    client = redis.Redis.from_url(redis_url)
    results = []
    for _ in range(runs):
        results.append(run_once(csv_path, booster, client, prefix, batch))
        for key in client.scan_iter(match=prefix + "*", count=10_000):
            client.unlink(key)
    seconds = statistics.median(result["seconds"] for result in results)
    print(
        json.dumps(
            {
                "implementation": "python (pandas + xgboost + hashlib + redis-py pipeline)",
                "xgboost": xgb.__version__,
                "rows": results[0]["rows"],
                "runs": results,
                "medianSeconds": seconds,
                "rowsPerSecond": results[0]["rows"] / seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
