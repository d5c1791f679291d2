// Connection URLs carry passwords (`redis://:secret@host`, `rediss://user:secret@host`), and they end up
// in messages: "cannot reach Redis at …", `batuta status`, logs, stored task errors. Every place that
// prints a URL or a message that may contain one passes it through this one function.

/** `scheme://user:password@` or `scheme://password@` (ioredis reads a lone userinfo as the password). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*)(:[^\s/?#@]*)?@/gi;
/** `?password=…` / `&pass=…` query parameters some clients accept. */
const PASSWORD_PARAMETER = /([?&](?:password|pass|pwd|auth)=)[^&#\s]*/gi;

/** The text with every URL's password (and a lone userinfo) replaced by `***`; the user name stays. */
export function redactCredentials(text: string): string {
  return text
    .replace(USERINFO, (_match, scheme: string, user: string, password: string | undefined) =>
      password === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
    )
    .replace(PASSWORD_PARAMETER, '$1***');
}
