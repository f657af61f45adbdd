/**
 * Cuts a byte stream into frames of exactly `frameBytes`. A frame that lies inside one chunk is
 * a view of it (no copy); one spread over chunks is copied once into its own buffer.
 */
export class FrameSlicer {
  private current: Buffer | null = null;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0)
      throw new RangeError(`bad frame size ${frameBytes}`);
  }

  push(chunk: Buffer, emit: (frame: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.current === null) {
        if (chunk.length - offset >= this.frameBytes) {
          emit(chunk.subarray(offset, offset + this.frameBytes));
          offset += this.frameBytes;
          continue;
        }
        this.current = Buffer.allocUnsafe(this.frameBytes);
        this.filled = 0;
      }
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      chunk.copy(this.current, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        const frame = this.current;
        this.current = null;
        emit(frame);
      }
    }
  }

  /** Bytes of an unfinished frame (non-zero at the end of a stream means a cut frame). */
  get pendingBytes(): number {
    return this.current === null ? 0 : this.filled;
  }
}
