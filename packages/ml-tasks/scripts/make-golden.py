#!/usr/bin/python3
"""Write the golden files that prove the TypeScript XGBoost scorer against XGBoost itself.

Documented, not run by CI (CI has no xgboost). Needs Debian's packages:

    apt-get install -y python3-xgboost python3-numpy
    /usr/bin/python3 packages/ml-tasks/scripts/make-golden.py

Run from anywhere; paths are resolved from this file. It writes, under
packages/ml-tasks/test/golden/:

- random-rows.json: 3,000 random 4-feature rows (about 10% of values missing, written as null;
  about a quarter of values sitting exactly on a split threshold of the models, to pin `<`
  against `<=`). Values are written as the shortest text of their float32, so both sides read
  the same float32.
- models trained here with Debian's xgboost, one per objective, on the example's iris rows
  (examples/iris-batch/data) with missing values injected, so learned default directions vary:
  softmax.model.json (multi:softmax), logistic.model.json (binary:logistic, base_score 0.3),
  squarederror.model.json (reg:squarederror, base_score 2.5, depth 6 so some trees have more
  than 32 leaves), poisson.model.json (count:poisson, a log link).
- <name>.golden.json for each model, plus the seed model (examples/iris-batch/data/model.json,
  multi:softprob) and the 300-tree benchmark model (iris-300.model.json, from train-300.py):
  XGBoost's inplace_predict outputs (float32, little-endian, base64) for every row of iris.csv
  followed by every random row, and XGBoost's predicted labels for classifiers.
"""

import base64
import json
import os

import numpy as np
import xgboost as xgb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "examples", "iris-batch", "data")
GOLDEN = os.path.join(ROOT, "packages", "ml-tasks", "test", "golden")
RANDOM_ROWS = 3000
RANGES = [(4.0, 8.0), (2.0, 4.5), (1.0, 7.0), (0.1, 2.5)]


def load_iris():
    features = np.loadtxt(os.path.join(DATA, "iris.csv"), delimiter=",", dtype=np.float32)
    labels = np.loadtxt(os.path.join(DATA, "iris_y.csv"), dtype=np.float32)
    return features, labels


def thresholds_of(booster: xgb.Booster):
    """Split thresholds per feature, read from the model's JSON."""
    model = json.loads(booster.save_raw("json"))
    per_feature = [set() for _ in RANGES]
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for node, left in enumerate(tree["left_children"]):
            if left != -1:
                per_feature[tree["split_indices"][node]].add(float(np.float32(tree["split_conditions"][node])))
    return [sorted(values) for values in per_feature]


def with_missing(features: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    noisy = features.copy()
    noisy[rng.random(noisy.shape) < share] = np.nan
    return noisy


def train(params: dict, features: np.ndarray, target: np.ndarray, rounds: int) -> xgb.Booster:
    base = {"nthread": 1, "seed": 11, "tree_method": "exact"}
    return xgb.train({**base, **params}, xgb.DMatrix(features, label=target), num_boost_round=rounds)


def random_rows(rng: np.random.Generator, thresholds) -> np.ndarray:
    rows = np.empty((RANDOM_ROWS, len(RANGES)), dtype=np.float32)
    for column, (low, high) in enumerate(RANGES):
        values = np.round(rng.uniform(low, high, RANDOM_ROWS), 2)
        on_threshold = rng.random(RANDOM_ROWS) < 0.25
        if thresholds[column]:
            values[on_threshold] = rng.choice(thresholds[column], on_threshold.sum())
        values[rng.random(RANDOM_ROWS) < 0.10] = np.nan
        rows[:, column] = values.astype(np.float32)
    return rows


def b64_float32(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def write_json(path: str, document: dict) -> None:
    with open(path, "w") as handle:
        json.dump(document, handle, separators=(",", ":"))
        handle.write("\n")


def main() -> None:
    rng = np.random.default_rng(20240501)
    iris, labels = load_iris()
    trained_iris = with_missing(iris, rng, 0.08)

    boosters = {}
    seed = xgb.Booster()
    seed.load_model(os.path.join(DATA, "model.json"))
    boosters["seed"] = ("../../../../examples/iris-batch/data/model.json", seed)
    big = xgb.Booster()
    big.load_model(os.path.join(GOLDEN, "iris-300.model.json"))
    boosters["iris-300"] = ("iris-300.model.json", big)

    softmax = train({"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, trained_iris, labels, 10)
    boosters["softmax"] = ("softmax.model.json", softmax)
    virginica = (labels == 2).astype(np.float32)
    logistic = train({"objective": "binary:logistic", "max_depth": 3, "base_score": 0.3}, trained_iris, virginica, 15)
    boosters["logistic"] = ("logistic.model.json", logistic)
    # A smooth target with noise: deep trees with more than 32 leaves exercise the node walk.
    synthetic = np.vstack([iris, np.float32(rng.uniform([4, 2, 1, 0.1], [8, 4.5, 7, 2.5], (3000, 4)))])
    target = (
        1.5 * synthetic[:, 2] - 0.8 * synthetic[:, 1] + np.sin(3 * synthetic[:, 0]) + rng.normal(0, 0.1, len(synthetic))
    ).astype(np.float32)
    regression = train(
        {"objective": "reg:squarederror", "max_depth": 6, "base_score": 2.5},
        with_missing(synthetic, rng, 0.08),
        target,
        6,
    )
    boosters["squarederror"] = ("squarederror.model.json", regression)
    counts = rng.poisson(np.exp(0.3 * iris[:, 2] - 0.5)).astype(np.float32)
    poisson = train({"objective": "count:poisson", "max_depth": 3}, trained_iris, counts, 10)
    boosters["poisson"] = ("poisson.model.json", poisson)

    thresholds = [sorted(set().union(*[thresholds_of(b)[c] for _, b in boosters.values()])) for c in range(4)]
    rows = random_rows(rng, thresholds)
    write_json(
        os.path.join(GOLDEN, "random-rows.json"),
        {
            "note": "3,000 random rows for the golden files; null = missing; written by scripts/make-golden.py",
            "rows": [[None if np.isnan(v) else float(str(v)) for v in row] for row in rows],
        },
    )

    everything = np.vstack([iris, rows]).astype(np.float32)
    for name, (model_file, booster) in boosters.items():
        if not model_file.startswith(".."):
            booster.save_model(os.path.join(GOLDEN, model_file))
        booster.set_param({"nthread": 1})
        config = json.loads(booster.save_config())
        objective = config["learner"]["objective"]["name"]
        predictions = booster.inplace_predict(everything)
        document = {
            "model": model_file,
            "objective": objective,
            "xgboost": xgb.__version__,
            "rows": {"iris": len(iris), "random": len(rows)},
            "shape": list(predictions.shape),
            "predictions": b64_float32(predictions),
        }
        if objective in ("multi:softprob", "binary:logistic"):
            classes = predictions.argmax(axis=1) if predictions.ndim == 2 else (predictions > 0.5).astype(int)
            document["labels"] = "".join(str(int(c)) for c in classes)
            if name == "seed":
                document["irisAccuracy"] = float((classes[: len(iris)] == labels).mean())
        write_json(os.path.join(GOLDEN, f"{name}.golden.json"), document)
        print(f"{name}: {objective}, {len(booster.get_dump())} trees, outputs {predictions.shape}")


if __name__ == "__main__":
    main()
