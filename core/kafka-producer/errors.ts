import { errorName } from './error-codes.ts';

/** A broker answered with an error code; its own explanation, when it gave one, is kept beside it. */
export class KafkaBrokerError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Read by describeError: brokers explain refusals (a failed login) in their own words. */
  readonly serverErrorMessage: string | undefined;

  constructor(what: string, code: number, serverErrorMessage?: string | null) {
    super(`${what}: ${errorName(code)}`);
    this.name = 'KafkaBrokerError';
    this.code = code;
    this.codeName = errorName(code);
    this.serverErrorMessage = serverErrorMessage ?? undefined;
  }
}

/** A connection could not be made or was lost, or a request timed out: another attempt may succeed. */
export class KafkaConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KafkaConnectionError';
  }
}

/** A broker sent what the protocol does not allow: the connection is closed. */
export class KafkaProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaProtocolError';
  }
}
