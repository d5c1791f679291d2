import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MlTasksError, XgboostModel } from '../../src/index.js';
import { exampleDataDir, goldenModelText, goldenRows, irisRows, readGolden } from '../support/golden.js';

const GOLDENS = ['seed', 'iris-300', 'softmax', 'logistic', 'squarederror', 'poisson'];

function maxDifference(ours: Float64Array, theirs: Float32Array): { max: number; at: number } {
  let max = 0;
  let at = -1;
  for (let i = 0; i < theirs.length; i++) {
    const difference = Math.abs((ours[i] as number) - (theirs[i] as number));
    if (!(difference <= max)) {
      max = difference;
      at = i;
    }
  }
  return { max, at };
}

describe('XgboostModel against XGBoost’s own predictions (golden files)', () => {
  const rows = goldenRows();
  for (const name of GOLDENS) {
    for (const compile of [true, false]) {
      it(`${name}: every iris and random row within 1e-6 of XGBoost (${compile ? 'compiled' : 'interpreted'})`, () => {
        const golden = readGolden(name);
        const model = XgboostModel.fromJsonText(goldenModelText(golden), { source: golden.model, compile });
        expect(model.objective).toBe(golden.objective);
        expect(golden.rows.iris + golden.rows.random).toBe(rows.rows);
        const out = new Float64Array(rows.rows * model.outputsPerRow);
        model.predictInto(rows.features, rows.rows, out);
        expect(out.length).toBe(golden.predictions.length);
        const { max, at } = maxDifference(out, golden.predictions);
        expect(max, `row ${Math.floor(at / model.outputsPerRow)}`).toBeLessThanOrEqual(1e-6);
        if (compile) expect(model.plan.compiledChunks).toBe(model.plan.quickscorerChunks);
        else expect(model.plan.compiledChunks).toBe(0);
      });
    }
  }

  it('splits the 300-tree model into several compiled chunks and walks the >32-leaf trees', () => {
    const big = XgboostModel.fromJsonText(goldenModelText(readGolden('iris-300')));
    expect(big.plan.quickscorerChunks).toBeGreaterThan(1);
    const deep = XgboostModel.fromJsonText(goldenModelText(readGolden('squarederror')));
    expect(deep.plan.walkedTrees).toBeGreaterThan(0);
  });

  it('predicts exactly XGBoost’s labels for the seed model and reports its accuracy on iris_y.csv', () => {
    const golden = readGolden('seed');
    const model = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'));
    const iris = irisRows();
    const classes = new Int32Array(iris.rows);
    model.predictClassesInto(iris.features, iris.rows, classes);
    expect(Array.from(classes).join('')).toBe(golden.labels?.slice(0, iris.rows));
    let correct = 0;
    for (let row = 0; row < iris.rows; row++) if (classes[row] === iris.labels[row]) correct++;
    const accuracy = correct / iris.rows;
    console.log(`seed model accuracy on iris_y.csv: ${(accuracy * 100).toFixed(1)}% (${correct}/${iris.rows})`);
    expect(accuracy).toBe(golden.irisAccuracy);
    expect(accuracy).toBeCloseTo(0.961, 3);
  });

  it('predicts the logistic model’s labels exactly as XGBoost', () => {
    const golden = readGolden('logistic');
    const model = XgboostModel.fromJsonText(goldenModelText(golden));
    const classes = new Uint8Array(rows.rows);
    model.predictClassesInto(rows.features, rows.rows, classes);
    expect(Array.from(classes).join('')).toBe(golden.labels);
  });
});

describe('XgboostModel format variants', () => {
  const iris = irisRows();
  const seedDocument = (): Record<string, unknown> =>
    JSON.parse(readFileSync(`${exampleDataDir}model.json`, 'utf8')) as Record<string, unknown>;
  const predict = (model: XgboostModel): Float64Array => {
    const out = new Float64Array(iris.rows * model.outputsPerRow);
    model.predictInto(iris.features, iris.rows, out);
    return out;
  };
  type Tree = { default_left: unknown[] };
  const learnerOf = (document: Record<string, unknown>) =>
    document.learner as {
      learner_model_param: { base_score: string };
      gradient_booster: { model: { trees: Tree[] } };
      objective: { name: string };
    };

  it('reads default_left written as booleans (older writers) like 0/1', () => {
    const document = seedDocument();
    for (const tree of learnerOf(document).gradient_booster.model.trees) {
      tree.default_left = tree.default_left.map((flag) => flag === 1);
    }
    expect(predict(XgboostModel.fromJson(document))).toEqual(predict(XgboostModel.fromJson(seedDocument())));
  });

  it('reads a per-class base_score vector (XGBoost 3.1) and adds each class its own margin', () => {
    const document = seedDocument();
    learnerOf(document).learner_model_param.base_score = '[5E-1,5E-1,5E-1]';
    const model = XgboostModel.fromJson(document);
    expect(predict(model)).toEqual(predict(XgboostModel.fromJson(seedDocument())));
    learnerOf(document).learner_model_param.base_score = '[0E0,1E0,0E0]';
    const shifted = XgboostModel.fromJson(document);
    expect(Array.from(shifted.baseMargins)).toEqual([0, 1, 0]);
    const margins = new Float64Array(3);
    const plain = new Float64Array(3);
    shifted.predictMarginInto(iris.features, 1, margins);
    XgboostModel.fromJson(seedDocument()).predictMarginInto(iris.features, 1, plain);
    expect(margins[1]! - plain[1]!).toBeCloseTo(0.5, 6);
  });

  it('reads features from wider rows through a layout', () => {
    const model = XgboostModel.fromJson(seedDocument());
    const wide = new Float64Array(iris.rows * 6);
    for (let row = 0; row < iris.rows; row++) {
      wide[row * 6] = row;
      for (let f = 0; f < 4; f++) wide[row * 6 + 1 + f] = iris.features[row * 4 + f]!;
    }
    const out = new Float64Array(iris.rows * 3);
    model.predictInto(wide, iris.rows, out, { stride: 6, offset: 1 });
    expect(out).toEqual(predict(model));
  });

  it('names the field when a document is not an XGBoost model', () => {
    const document = seedDocument();
    delete (learnerOf(document).gradient_booster.model.trees[3] as Record<string, unknown>).split_conditions;
    expect(() => XgboostModel.fromJson(document, { source: 'bad.json' })).toThrow(
      /bad\.json is not an XGBoost JSON model:\n {2}learner\.gradient_booster\.model\.trees\.3\.split_conditions/,
    );
    expect(() => XgboostModel.fromJsonText('{"learner": ', { source: 'cut.json' })).toThrow(
      /cut\.json is not valid JSON/,
    );
  });

  it('rejects unsupported objectives and categorical splits with UNSUPPORTED_MODEL', () => {
    const document = seedDocument();
    learnerOf(document).objective.name = 'rank:pairwise';
    expect(() => XgboostModel.fromJson(document)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL' }));
    const categorical = seedDocument();
    const tree = learnerOf(categorical).gradient_booster.model.trees[0] as Tree & { split_type: number[] };
    tree.split_type = tree.split_type.map(() => 1);
    expect(() => XgboostModel.fromJson(categorical)).toThrow(/categorical splits are not supported/);
  });

  it('rejects trees whose links are broken with INVALID_MODEL', () => {
    const document = seedDocument();
    const tree = learnerOf(document).gradient_booster.model.trees[0] as Tree & { left_children: number[] };
    tree.left_children[0] = 2;
    const error = (() => {
      try {
        XgboostModel.fromJson(document);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(MlTasksError);
    expect((error as MlTasksError).code).toBe('INVALID_MODEL');
    expect((error as MlTasksError).message).toMatch(/trees\[0\]/);
  });

  it('checks the feature count of a row', () => {
    const model = XgboostModel.fromJson(seedDocument());
    expect(() => model.predictRow([1, 2, 3])).toThrow(expect.objectContaining({ code: 'FEATURE_COUNT_MISMATCH' }));
    expect(model.predictRow([5.0, 2.9, 1.1, 0.4])[0]).toBeCloseTo(0.9530266, 6);
  });
});
