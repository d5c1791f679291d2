#!/usr/bin/python3
"""Train the 300-tree iris model used by `npm run bench -- scorer`.

100 boosting rounds x 3 classes = 300 trees, max_depth 4, multi:softprob, trained with
Debian's python3-xgboost on the example's own rows (examples/iris-batch/data/iris.csv and
iris_y.csv, 1,050 labelled rows). Deterministic: one thread, fixed seed.

Run from the repository root (documented, not run by CI):

    apt-get install -y python3-xgboost python3-numpy
    /usr/bin/python3 packages/ml-tasks/scripts/train-300.py

Writes packages/ml-tasks/test/golden/iris-300.model.json.
"""

import os

import numpy as np
import xgboost as xgb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "examples", "iris-batch", "data")
OUT = os.path.join(ROOT, "packages", "ml-tasks", "test", "golden", "iris-300.model.json")


def main() -> None:
    features = np.loadtxt(os.path.join(DATA, "iris.csv"), delimiter=",", dtype=np.float32)
    labels = np.loadtxt(os.path.join(DATA, "iris_y.csv"), dtype=np.float32)
    train = xgb.DMatrix(features, label=labels)
    params = {
        "objective": "multi:softprob",
        "num_class": 3,
        "max_depth": 4,
        "eta": 0.3,
        "nthread": 1,
        "seed": 7,
        "tree_method": "exact",
    }
    booster = xgb.train(params, train, num_boost_round=100)
    booster.save_model(OUT)
    trees = booster.get_dump()
    print(f"wrote {OUT}: {len(trees)} trees, xgboost {xgb.__version__}")


if __name__ == "__main__":
    main()
