// A fast parser for numeric CSV tables, straight from bytes into one Float64Array.
//
// Whether the first line is a header is the caller's explicit choice, never guessed: the original
// example read a header-less file with the first row taken as a header and silently lost a row.
// Numbers parse exactly as JavaScript's Number() would: the common short decimals ("5.1", "-0.0")
// take an exact fast path (an integer mantissa below 2^53 scaled by an exact power of ten is one
// correctly rounded operation); anything else goes through Number(). Missing values ('', 'nan',
// 'NA', 'null', …) become NaN. Every error names the file, line and column.
import { MlTasksError } from '../errors.js';

/** A numeric table: `rows` × `width` values, row-major. */
export interface NumericTable {
  data: Float64Array;
  rows: number;
  width: number;
  /** Column names from the header line; undefined when the file has none. */
  columns?: string[] | undefined;
}

/** How to read a CSV file. `header` is required: say whether the first line names the columns. */
export interface CsvOptions {
  header: boolean;
  /** Keep only these columns (indices, or names when there is a header), in this order. */
  columns?: readonly (number | string)[] | undefined;
  /** One ASCII character; default ','. */
  delimiter?: string | undefined;
  /** Named in errors (a path or URL). */
  source?: string;
  /** Accept a header line whose every cell is a number (normally refused as probably data). */
  numericHeader?: boolean | undefined;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const TAB = 9;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);
const MISSING = new Set(['', 'nan', 'NaN', 'NAN', '-nan', 'NA', 'N/A', '#N/A', 'null', 'NULL', 'None']);
const INFINITIES: Record<string, number> = {
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

const decoder = new TextDecoder();

function csvError(source: string, line: number, column: number | undefined, message: string): MlTasksError {
  const where = column === undefined ? `${source}:${line}` : `${source}:${line}:${column}`;
  return new MlTasksError('CSV_PARSE', `${where}: ${message}`, { details: { source, line, column } });
}

// Parses a field the fast path did not take: trims, unquotes, then NA tokens, infinities, Number().
function parseSlow(text: string): number | undefined {
  let field = text.trim();
  if (field.length >= 2 && field.startsWith('"') && field.endsWith('"')) field = field.slice(1, -1).trim();
  if (MISSING.has(field)) return Number.NaN;
  const infinity = INFINITIES[field];
  if (infinity !== undefined) return infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(field)) return undefined;
  return Number(field);
}

function splitHeader(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((cell) => {
    const trimmed = cell.trim();
    return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  });
}

/** Parses a numeric CSV table from bytes. */
export function parseNumericCsv(bytes: Uint8Array, options: CsvOptions): NumericTable {
  const source = options.source ?? 'csv';
  if (typeof options.header !== 'boolean') {
    throw new MlTasksError(
      'INVALID_ARGUMENT',
      `${source}: say whether the first line is a header (header: true or false)`,
    );
  }
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127) {
    throw new MlTasksError('INVALID_ARGUMENT', `${source}: the delimiter must be one ASCII character`);
  }
  const delimiterCode = delimiter.charCodeAt(0);
  const length = bytes.length;
  let position = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 0;

  const lineEnd = (from: number): number => {
    let end = from;
    while (end < length && bytes[end] !== NEWLINE) end++;
    return end;
  };
  const contentEnd = (from: number, end: number): number =>
    end > from && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
  const isBlank = (from: number, end: number): boolean => {
    for (let i = from; i < end; i++) {
      const code = bytes[i];
      if (code !== SPACE && code !== TAB && code !== CARRIAGE_RETURN) return false;
    }
    return true;
  };

  // The header, or the first data line's width.
  let columns: string[] | undefined;
  let width = 0;
  if (options.header) {
    const end = lineEnd(position);
    line = 1;
    const text = decoder.decode(bytes.subarray(position, contentEnd(position, end)));
    if (text.trim().length === 0) throw csvError(source, 1, undefined, 'header: true, but the first line is empty');
    columns = splitHeader(text, delimiter);
    if (!options.numericHeader && columns.every((cell) => parseSlow(cell) !== undefined && cell.length > 0)) {
      throw csvError(
        source,
        1,
        undefined,
        `header: true, but the first line (${text.slice(0, 60)}) is all numbers — it looks like data. ` +
          'If the file has no header, set header: false; if it really is the header, set numericHeader: true',
      );
    }
    width = columns.length;
    position = end + 1;
  } else {
    let probe = position;
    while (probe < length) {
      const end = lineEnd(probe);
      if (!isBlank(probe, end)) {
        width = 1;
        for (let i = probe; i < end; i++) if (bytes[i] === delimiterCode) width++;
        break;
      }
      probe = end + 1;
    }
  }

  // Which input column lands in which output column.
  const selected = options.columns;
  const target = new Int32Array(width).fill(-1);
  let outWidth = width;
  if (selected) {
    selected.forEach((column, index) => {
      const resolved = typeof column === 'number' ? column : (columns?.indexOf(column) ?? -1);
      if (typeof column === 'string' && !columns) {
        throw csvError(source, 1, undefined, `column '${column}' is named, but the file has no header (header: false)`);
      }
      if (resolved < 0 || resolved >= width) {
        const known = columns ? ` (columns: ${columns.join(', ')})` : ` (the file has ${width} columns)`;
        throw csvError(
          source,
          1,
          undefined,
          `no column ${typeof column === 'string' ? `'${column}'` : column}${known}`,
        );
      }
      target[resolved] = index;
    });
    outWidth = selected.length;
  } else {
    for (let i = 0; i < width; i++) target[i] = i;
  }

  // Upper bound on rows: one per newline, plus a last line without one.
  let lineCount = 1;
  for (let at = position; at < length; ) {
    const next = bytes.indexOf(NEWLINE, at);
    if (next < 0) break;
    lineCount++;
    at = next + 1;
  }
  const data = new Float64Array(lineCount * outWidth);
  let rows = 0;

  while (position < length) {
    line++;
    const first = bytes[position];
    if (first === NEWLINE || (first === CARRIAGE_RETURN && bytes[position + 1] === NEWLINE)) {
      position += first === NEWLINE ? 1 : 2;
      continue;
    }
    const rowBase = rows * outWidth;
    let column = 0;
    let blankLine = false;
    for (;;) {
      let end = scanNumber(bytes, position, length, delimiterCode);
      let value = scannedValue;
      if (end < 0) {
        end = position;
        while (end < length && bytes[end] !== delimiterCode && bytes[end] !== NEWLINE) end++;
        const fieldEnd =
          end > position && bytes[end - 1] === CARRIAGE_RETURN && bytes[end] !== delimiterCode ? end - 1 : end;
        const text = decoder.decode(bytes.subarray(position, fieldEnd));
        const parsed = parseSlow(text);
        if (column === 0 && text.trim().length === 0 && (end >= length || bytes[end] === NEWLINE)) {
          blankLine = true;
        } else if (parsed === undefined) {
          throw csvError(source, line, column + 1, `'${text.slice(0, 40)}' is not a number (column ${column + 1})`);
        }
        value = parsed ?? Number.NaN;
      }
      if (column >= width) throw csvError(source, line, undefined, `expected ${width} values, got more`);
      const slot = target[column] as number;
      if (slot >= 0) data[rowBase + slot] = value;
      column++;
      const code = bytes[end];
      if (code === delimiterCode) {
        position = end + 1;
        continue;
      }
      // End of line: '\n', '\r\n' or the end of the data.
      position = code === CARRIAGE_RETURN ? end + 2 : end + 1;
      break;
    }
    if (blankLine && column === 1) continue;
    if (column !== width) throw csvError(source, line, undefined, `expected ${width} values, got ${column}`);
    rows++;
  }
  return { data: data.subarray(0, rows * outWidth), rows, width: outWidth, columns: selectedNames(columns, selected) };
}

function selectedNames(
  columns: string[] | undefined,
  selected: readonly (number | string)[] | undefined,
): string[] | undefined {
  if (!columns) return undefined;
  if (!selected) return columns;
  return selected.map((column) => (typeof column === 'number' ? (columns[column] as string) : column));
}

// The value of the last field scanNumber accepted (a module variable: no allocation per field).
let scannedValue = 0;

// The exact fast path for plain decimals ending at a delimiter, a line end or the end of the data.
// Returns the index of the byte after the number, or -1 to send the field to the slow path.
function scanNumber(bytes: Uint8Array, start: number, length: number, delimiter: number): number {
  let i = start;
  let negative = false;
  let code = bytes[i] as number;
  if (code === MINUS) {
    negative = true;
    code = bytes[++i] as number;
  } else if (code === PLUS) {
    code = bytes[++i] as number;
  }
  let mantissa = 0;
  let digits = 0;
  let exponent = 0;
  while (code >= ZERO && code <= NINE && i < length) {
    mantissa = mantissa * 10 + (code - ZERO);
    digits++;
    code = bytes[++i] as number;
  }
  if (code === DOT && i < length) {
    code = bytes[++i] as number;
    while (code >= ZERO && code <= NINE && i < length) {
      mantissa = mantissa * 10 + (code - ZERO);
      digits++;
      exponent--;
      code = bytes[++i] as number;
    }
  }
  if (digits === 0 || digits > 15) return -1;
  if ((code === LOWER_E || code === UPPER_E) && i < length) {
    code = bytes[++i] as number;
    let exponentNegative = false;
    if (code === MINUS || code === PLUS) {
      exponentNegative = code === MINUS;
      code = bytes[++i] as number;
    }
    let written = 0;
    let exponentDigits = 0;
    while (code >= ZERO && code <= NINE && i < length && exponentDigits < 4) {
      written = written * 10 + (code - ZERO);
      exponentDigits++;
      code = bytes[++i] as number;
    }
    if (exponentDigits === 0) return -1;
    exponent += exponentNegative ? -written : written;
  }
  if (i < length && code !== delimiter && code !== NEWLINE && code !== CARRIAGE_RETURN) return -1;
  if (code === CARRIAGE_RETURN && i < length && bytes[i + 1] !== NEWLINE) return -1;
  if (exponent < -22 || exponent > 22) return -1;
  const magnitude =
    exponent < 0
      ? mantissa / (EXACT_POWERS_OF_TEN[-exponent] as number)
      : mantissa * (EXACT_POWERS_OF_TEN[exponent] as number);
  scannedValue = negative ? -magnitude : magnitude;
  return i;
}
