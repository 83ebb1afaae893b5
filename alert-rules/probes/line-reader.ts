/**
 * Lines from a socket, as Go's bufio.Scanner splits them for blackbox's
 * query_response: `\n` ends a line, a `\r` before it is dropped, and a line
 * longer than the limit is an error rather than a growing buffer.
 */
import type { Socket } from 'node:net';

export class LineReader {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly socket: Socket;
  private readonly maxLineBytes: number;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error): void => {
    this.failure = err;
    this.notify();
  };

  constructor(socket: Socket, maxLineBytes: number) {
    this.socket = socket;
    this.maxLineBytes = maxLineBytes;
    socket.on('data', this.onData);
    socket.once('end', this.onEnd);
    socket.once('close', this.onEnd);
    socket.once('error', this.onError);
  }

  private notify(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** The next line, or undefined when the peer closed the connection first. */
  async next(signal: AbortSignal): Promise<string | undefined> {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.buffer.subarray(0, newline).toString('utf8').replace(/\r$/, '');
        this.buffer = this.buffer.subarray(newline + 1);
        return line;
      }
      if (this.buffer.length > this.maxLineBytes)
        throw new Error(`a line longer than ${this.maxLineBytes} bytes`);
      if (this.failure) throw this.failure;
      if (this.ended) {
        // The last line needs no newline, as with bufio.ScanLines.
        const rest = this.buffer.length > 0 ? this.buffer.toString('utf8').replace(/\r$/, '') : undefined;
        this.buffer = Buffer.alloc(0);
        return rest;
      }
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  /** Stops reading, so that TLS can take the socket over (bytes already read are dropped, as in Go). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
  }
}
