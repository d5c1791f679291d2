// Python 3's `str(float)` / `repr(float)` in JavaScript. Both languages pick the same digits (the
// shortest string that reads back as the same double); they differ only in layout: Python always
// writes a decimal point ('5.0' where JS writes '5'), switches to exponent form at other bounds
// (exponent < -4 or >= 16, where JS uses < -6 or >= 21) and pads the exponent to two digits ('1e-07').

/** Formats a number exactly as Python 3's `str(float)`: '5.0', '0.30000000000000004', '1e-07', '1e+16', '-0.0', 'nan', 'inf'. */
export function pythonFloatString(value: number): string {
  const magnitude = value < 0 ? -value : value;
  // Fast path: in [1e-4, 1e16) both languages write fixed notation with the same digits.
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    const text = String(value);
    return Number.isInteger(value) ? `${text}.0` : text;
  }
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  if (Number.isNaN(value)) return 'nan';
  if (magnitude === Number.POSITIVE_INFINITY) return value < 0 ? '-inf' : 'inf';
  return formatShortest(value);
}

// The general case: shortest digits from toExponential() (ECMA-262 guarantees the shortest
// round-trip digits when no fraction length is given), laid out by Python's rules.
function formatShortest(value: number): string {
  const sign = value < 0 ? '-' : '';
  const exponential = Math.abs(value).toExponential();
  const at = exponential.indexOf('e');
  const digits = exponential.slice(0, at).replace('.', '');
  const exponent = Number(exponential.slice(at + 1));
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const exponentSign = exponent < 0 ? '-' : '+';
    const exponentDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${mantissa}e${exponentSign}${exponentDigits}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return `${sign}${digits.padEnd(integerDigits, '0')}.0`;
  return `${sign}${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}
