let namespaces = 0;

/**
 * A key namespace no other test uses (`<label>-<pid>-<n>`): tests that share one Redis, even from
 * several processes, never see each other's keys. It is a valid store namespace for any label made of
 * letters, digits, `_`, `.` and `-`.
 */
export function uniqueNamespace(label = 't'): string {
  return `${label}-${process.pid}-${namespaces++}`;
}
