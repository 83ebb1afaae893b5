import { APIS, type KafkaRequest, request } from './apis.ts';
import { NONE } from './error-codes.ts';
import { KafkaBrokerError } from './errors.ts';

export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/** InitProducerId v1 without a transactional id: a fresh id for an idempotent producer, from any broker. */
export function initProducerIdRequest(clientId: string): KafkaRequest<ProducerIdentity> {
  return request(
    APIS.initProducerId,
    clientId,
    (writer) => {
      writer.nullString(null);
      writer.int32(60_000); // the transaction timeout Java clients send; unused without a transactional id
    },
    (reader) => {
      reader.skip(4); // throttle time
      const code = reader.int16();
      if (code !== NONE) throw new KafkaBrokerError('InitProducerId', code);
      return { producerId: reader.int64(), producerEpoch: reader.int16() };
    },
  );
}
