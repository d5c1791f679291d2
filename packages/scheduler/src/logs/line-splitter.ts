// Cuts a byte stream's text into lines as chunks arrive: a line split across two chunks is one line,
// `\r\n` ends a line like `\n`, and a last line without a newline comes out at `end()`.

/** Splits chunks of text into whole lines for `onLine`. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Takes the next chunk; calls `onLine` for every line it completes. */
  push(chunk: string): void {
    let newline = chunk.indexOf('\n');
    if (newline < 0) {
      this.partial += chunk;
      return;
    }
    this.emit(this.partial + chunk.slice(0, newline));
    let start = newline + 1;
    newline = chunk.indexOf('\n', start);
    while (newline >= 0) {
      this.emit(chunk.slice(start, newline));
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    this.partial = chunk.slice(start);
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
