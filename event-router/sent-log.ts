import type { Clock } from '../core/clock.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import type { Delivery } from '../notify/delivery.ts';
import type { AggregatorOptions, MessageAbout } from './aggregate/aggregator.ts';

/** One message the aggregator handed to a route's robots. */
export interface SentMessage extends MessageAbout {
  /** Counts the messages since the process started. */
  id: number;
  time: number;
  route: string;
  title: string;
  /** By robot name: what became of it there, updated by the robot as it goes. */
  deliveries: ReadonlyMap<string, Delivery>;
}

/** Messages remembered for people watching; a message is a few hundred bytes. */
const SENT_LOG_SIZE = 500;

/** The latest messages handed to the robots, the oldest forgotten first. */
export class SentLog {
  private readonly messages: SentMessage[] = [];
  private count = 0;
  private readonly size: number;

  constructor(size = SENT_LOG_SIZE) {
    this.size = size;
  }

  add(message: Omit<SentMessage, 'id'>): void {
    this.messages.push({ ...message, id: ++this.count });
    if (this.messages.length > this.size) this.messages.shift();
  }

  /** The newest first. */
  list(): SentMessage[] {
    return [...this.messages].reverse();
  }
}

/** The aggregator's `send`: hands each message to its route's robots and remembers it with what becomes of it. */
export function sendAndRemember(
  chatRobots: Pick<ChatRobots, 'send'>,
  log: SentLog,
  clock: Clock,
): AggregatorOptions['send'] {
  return (target, message, about) => {
    const deliveries = new Map<string, Delivery>();
    chatRobots.send(target.robots, message, deliveries);
    log.add({ ...about, time: clock.now(), route: target.id, title: message.title, deliveries });
  };
}
