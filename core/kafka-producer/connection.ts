import type { Socket } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { apiVersionsRequest, unsupported } from './api-versions.ts';
import { APIS, type Api, type KafkaRequest } from './apis.ts';
import { type BrokerAddress, formatBrokerAddress } from './broker-address.ts';
import { KafkaConnectionError, KafkaProtocolError } from './errors.ts';
import { FrameReader } from './frame-reader.ts';
import { authenticate, type SaslCredentials } from './sasl.ts';
import { openSocket } from './socket.ts';

export interface ConnectionOptions {
  clientId: string;
  connectTimeout: number;
  /** How long a request may wait for its answer before the connection is given up. */
  requestTimeout: number;
  /** Requests sent before the first is answered; idempotence keeps their order for up to 5. */
  maxInFlight: number;
  tls?: TlsOptions;
  sasl?: SaslCredentials;
}

interface Pending {
  api: Api;
  frames: Buffer[];
  correlationId: number;
  read: (reader: FrameReader) => unknown;
  resolve: (value: never) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/** What the producer sends; a broker that cannot serve one of these is refused at connect time. */
const NEEDED: readonly Api[] = [APIS.metadata, APIS.initProducerId, APIS.produce];
const NEEDED_FOR_SASL: readonly Api[] = [APIS.saslHandshake, APIS.saslAuthenticate];
/** A SASL session is renewed by a new connection when this share of its lifetime has passed. */
const SESSION_RENEWAL = 0.85;

/**
 * One connection to one broker. Requests go out in order, up to
 * `maxInFlight` unanswered; Kafka answers a connection's requests in the
 * order they came, so answers are matched to the oldest request. A request
 * unanswered in time closes the connection, failing everything it carried.
 */
export class BrokerConnection {
  readonly address: string;
  private readonly socket: Socket;
  private readonly options: ConnectionOptions;
  private readonly inFlight: Pending[] = [];
  private readonly waiting: Pending[] = [];
  private nextCorrelationId = 1;
  private received: Buffer | undefined;
  private closedBy: Error | undefined;
  private renewAt = Number.POSITIVE_INFINITY;
  private retiring = false;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(socket: Socket, address: string, options: ConnectionOptions) {
    this.socket = socket;
    this.address = address;
    this.options = options;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closedBy ??= new KafkaConnectionError(`connection to ${address} failed: ${err.message}`, {
        cause: err,
      });
    });
    socket.on('close', () => this.onClose());
  }

  /** Connects, checks the broker serves what is needed, and logs in when SASL is configured. */
  static async open(address: BrokerAddress, options: ConnectionOptions): Promise<BrokerConnection> {
    const name = formatBrokerAddress(address);
    const socket = await openSocket(address, options.connectTimeout, options.tls);
    const connection = new BrokerConnection(socket, name, options);
    try {
      const versions = await connection.send(apiVersionsRequest(options.clientId));
      const missing = unsupported(versions, options.sasl ? [...NEEDED, ...NEEDED_FOR_SASL] : NEEDED);
      if (missing) throw new Error(`the Kafka broker at ${name} is too old for this producer: ${missing}`);
      if (options.sasl) {
        const lifetimeMs = await authenticate((r) => connection.send(r), options.clientId, options.sasl);
        if (lifetimeMs > 0) connection.renewAt = Date.now() + lifetimeMs * SESSION_RENEWAL;
      }
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  }

  /** Whether this connection still takes requests: false once closed, or when its login session is ending. */
  get usable(): boolean {
    return !this.closedBy && !this.retiring && Date.now() < this.renewAt;
  }

  send<T>(request: KafkaRequest<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedBy) {
        reject(this.closedBy);
        return;
      }
      const pending: Pending = {
        api: request.api,
        frames: request.frames,
        correlationId: 0,
        read: request.read,
        resolve: resolve as (value: never) => void,
        reject,
      };
      this.waiting.push(pending);
      this.pump();
    });
  }

  onClosed(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Closes once what it carries is answered: for a connection whose session is about to end. */
  retire(): void {
    this.retiring = true;
    if (this.inFlight.length === 0 && this.waiting.length === 0) this.close();
  }

  close(): void {
    this.closedBy ??= new KafkaConnectionError(`connection to ${this.address} closed`);
    this.socket.destroy();
  }

  private pump(): void {
    if (this.waiting.length === 0 || this.inFlight.length >= this.options.maxInFlight) return;
    this.socket.cork();
    while (this.waiting.length > 0 && this.inFlight.length < this.options.maxInFlight) {
      const pending = this.waiting.shift()!;
      pending.correlationId = this.nextCorrelationId;
      this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
      pending.frames[0]!.writeInt32BE(pending.correlationId, 8);
      for (const frame of pending.frames) this.socket.write(frame);
      pending.timer = setTimeout(() => this.timedOut(pending), this.options.requestTimeout);
      this.inFlight.push(pending);
    }
    this.socket.uncork();
  }

  private timedOut(pending: Pending): void {
    this.closedBy ??= new KafkaConnectionError(
      `${pending.api.name} request to ${this.address} timed out after ${this.options.requestTimeout} ms`,
    );
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const data = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    let at = 0;
    while (data.length - at >= 4) {
      const size = data.readInt32BE(at);
      if (data.length - at - 4 < size) break;
      this.onResponse(data.subarray(at + 4, at + 4 + size));
      at += 4 + size;
    }
    this.received = at < data.length ? data.subarray(at) : undefined;
  }

  private onResponse(frame: Buffer): void {
    const pending = this.inFlight.shift();
    if (!pending || frame.length < 4 || frame.readInt32BE(0) !== pending.correlationId) {
      this.closedBy ??= new KafkaProtocolError(
        `the broker at ${this.address} answered a request it was not sent`,
      );
      this.socket.destroy();
      pending?.reject(this.closedBy);
      return;
    }
    clearTimeout(pending.timer);
    try {
      pending.resolve(pending.read(new FrameReader(frame, 4)) as never);
    } catch (err) {
      pending.reject(err as Error);
    }
    if (this.retiring && this.inFlight.length === 0 && this.waiting.length === 0) this.close();
    else this.pump();
  }

  private onClose(): void {
    const reason =
      this.closedBy ?? new KafkaConnectionError(`the broker at ${this.address} closed the connection`);
    this.closedBy = reason;
    for (const pending of this.inFlight.splice(0).concat(this.waiting.splice(0))) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
    for (const listener of this.closeListeners) listener();
  }
}
