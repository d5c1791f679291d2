#!/usr/bin/python3
"""XGBoost's own scoring speed with one thread, the baseline of `npm run bench -- scorer`.

    scorer_baseline.py ROWS_F32 ROWS RUNS OUT_DIR MODEL...

ROWS_F32 holds ROWS × 4 little-endian float32 values (written by bench/scorer.ts). For each model
it times Booster.inplace_predict over all rows RUNS times (nthread=1) after one warm-up, and writes
the first 100,000 predictions to OUT_DIR/<index>.f32 so the TypeScript side can compare its own.
Prints one JSON line. Needs Debian's python3-xgboost.
"""

import json
import os
import statistics
import sys
import time

import numpy as np
import xgboost as xgb


def main() -> None:
    rows_path, rows, runs, out_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    models = sys.argv[5:]
    features = np.fromfile(rows_path, dtype="<f4").reshape(rows, 4)
    results = []
    for index, model_path in enumerate(models):
        booster = xgb.Booster()
        booster.load_model(model_path)
        booster.set_param({"nthread": 1})
        booster.inplace_predict(features[:10_000])
        seconds = []
        predictions = None
        for _ in range(runs):
            started = time.perf_counter()
            predictions = booster.inplace_predict(features)
            seconds.append(time.perf_counter() - started)
        np.ascontiguousarray(predictions[:100_000], dtype="<f4").tofile(os.path.join(out_dir, f"{index}.f32"))
        median = statistics.median(seconds)
        results.append({"model": model_path, "seconds": seconds, "medianSeconds": median, "rowsPerSecond": rows / median})
    print(json.dumps({"xgboost": xgb.__version__, "nthread": 1, "results": results}))


if __name__ == "__main__":
    main()
