/** The last `capacity` lines of a child's stderr, cut to `maxLine` characters each. */
export class LineRing {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly capacity = 20,
    private readonly maxLine = 400,
  ) {}

  /** Adds a chunk; returns the complete lines it finished (ffmpeg ends progress lines with \r). */
  write(chunk: string): string[] {
    const parts = (this.partial + chunk).split(/\r\n|\n|\r/);
    this.partial = (parts.pop() ?? '').slice(-this.maxLine * 4);
    const done: string[] = [];
    for (const part of parts) {
      const line = part.trimEnd().slice(0, this.maxLine);
      if (line.length === 0) continue;
      done.push(line);
      this.lines.push(line);
      if (this.lines.length > this.capacity) this.lines.shift();
    }
    return done;
  }

  /** The kept lines, plus the unfinished last one. */
  tail(): string[] {
    const rest = this.partial.trim();
    return rest ? [...this.lines, rest.slice(0, this.maxLine)] : [...this.lines];
  }
}
