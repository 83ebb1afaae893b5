import { APIS, type KafkaRequest, request } from './apis.ts';
import type { BrokerAddress } from './broker-address.ts';
import type { FrameReader } from './frame-reader.ts';

export interface TopicMetadata {
  name: string;
  /** The topic's own error (0 when none): LEADER_NOT_AVAILABLE while it is being created. */
  errorCode: number;
  /** Each partition's leader node by partition index, -1 where there is none now. */
  leaders: number[];
}

export interface ClusterMetadata {
  brokers: Map<number, BrokerAddress>;
  topics: TopicMetadata[];
}

/**
 * Metadata v7 for some topics: the brokers and each partition's leader. With
 * `autoCreate`, the broker creates a missing topic (when the cluster allows it).
 */
export function metadataRequest(
  clientId: string,
  topics: readonly string[],
  autoCreate: boolean,
): KafkaRequest<ClusterMetadata> {
  return request(
    APIS.metadata,
    clientId,
    (writer) => {
      writer.int32(topics.length);
      for (const topic of topics) writer.string(topic);
      writer.boolean(autoCreate);
    },
    readMetadata,
  );
}

function readMetadata(reader: FrameReader): ClusterMetadata {
  reader.skip(4); // throttle time
  const brokers = new Map<number, BrokerAddress>();
  reader.array((r) => {
    const id = r.int32();
    brokers.set(id, { host: r.string(), port: r.int32() });
    r.nullString(); // rack
  });
  reader.nullString(); // cluster id
  reader.skip(4); // controller id
  const topics = reader.array((r): TopicMetadata => {
    const errorCode = r.int16();
    const name = r.string();
    r.boolean(); // internal
    const leaders: number[] = [];
    r.array((p) => {
      p.int16(); // the partition's own error: a missing leader shows as leader -1
      const index = p.int32();
      leaders[index] = p.int32();
      p.skip(4); // leader epoch
      for (let list = 0; list < 3; list++) p.skip(4 * p.int32()); // replicas, in-sync replicas, offline replicas
    });
    return { name, errorCode, leaders: Array.from(leaders, (leader) => leader ?? -1) };
  });
  return { brokers, topics };
}
