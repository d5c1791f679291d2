// Reads the golden files written by scripts/make-golden.py (XGBoost's own predictions).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const goldenDir = fileURLToPath(new URL('../golden/', import.meta.url));
export const exampleDataDir = fileURLToPath(new URL('../../../../examples/iris-batch/data/', import.meta.url));

export interface Golden {
  model: string;
  objective: string;
  rows: { iris: number; random: number };
  shape: number[];
  predictions: Float32Array;
  labels?: string;
  irisAccuracy?: number;
}

/** The iris rows (examples/iris-batch/data/iris.csv) and labels, parsed plainly. */
export function irisRows(): { features: Float64Array; labels: Int32Array; rows: number } {
  const lines = readFileSync(`${exampleDataDir}iris.csv`, 'utf8').trim().split('\n');
  const features = Float64Array.from(lines.flatMap((line) => line.split(',').map(Number)));
  const labels = Int32Array.from(readFileSync(`${exampleDataDir}iris_y.csv`, 'utf8').trim().split('\n').map(Number));
  return { features, labels, rows: lines.length };
}

/** Every golden row: the iris rows then the 3,000 random rows (NaN = missing). */
export function goldenRows(): { features: Float64Array; rows: number } {
  const iris = irisRows();
  const random = JSON.parse(readFileSync(`${goldenDir}random-rows.json`, 'utf8')) as { rows: (number | null)[][] };
  const features = new Float64Array(iris.features.length + random.rows.length * 4);
  features.set(iris.features);
  let at = iris.features.length;
  for (const row of random.rows) for (const value of row) features[at++] = value === null ? Number.NaN : value;
  return { features, rows: iris.rows + random.rows.length };
}

export function readGolden(name: string): Golden {
  const document = JSON.parse(readFileSync(`${goldenDir}${name}.golden.json`, 'utf8')) as Omit<
    Golden,
    'predictions'
  > & {
    predictions: string;
  };
  const bytes = Buffer.from(document.predictions, 'base64');
  const predictions = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(predictions.buffer).set(bytes);
  return { ...document, predictions };
}

/** The model file a golden names, as text. */
export function goldenModelText(golden: Golden): string {
  return readFileSync(new URL(golden.model, `file://${goldenDir}`), 'utf8');
}
