import { describe, expect, it } from 'vitest';
import { collectorSchema } from '../config.ts';
import { hasPatterns, subscribedTopics, topicSubscription } from './topics.ts';

const matches = (topic: string, name: string, dlq = 'lookout-logs-dlq') => {
  const subscription = topicSubscription(topic, dlq);
  return typeof subscription === 'string' ? subscription === name : subscription.test(name);
};

describe('topic subscriptions', () => {
  it('match a pattern against the whole topic name, as Kafka does', () => {
    expect(matches('/logs-.*/', 'logs-team-a')).toBe(true);
    expect(matches('/logs-.*/', 'lookout-logs-x')).toBe(false);
    expect(matches('/logs-a|logs-b/', 'logs-b')).toBe(true);
    expect(matches('/logs-a|logs-b/', 'logs-bc')).toBe(false);
  });

  it('never take the dead-letter topic, whatever the pattern says', () => {
    expect(matches('/.*logs-.*/', 'lookout-logs-dlq')).toBe(false);
    expect(matches('/.*logs-.*/', 'lookout-logs-dlq2')).toBe(true);
    expect(matches('/.*/', 'a.b', 'a.b')).toBe(false);
    expect(matches('/.*/', 'aab', 'a.b')).toBe(true);
  });

  it('keep a literal name literal', () => {
    expect(topicSubscription('logs.a', 'dlq')).toBe('logs.a');
  });
});

describe('subscribed topics', () => {
  it('are the names as configured and the existing topics each pattern takes, never the dead-letter topic', () => {
    const existing = ['logs-a', 'logs-b', 'logs-dlq', 'pre-logs-a', 'metrics'];
    expect(subscribedTopics(['/logs-.*/', 'audit'], 'logs-dlq', existing)).toEqual([
      'audit',
      'logs-a',
      'logs-b',
    ]);
    expect(subscribedTopics(['logs-a', '/logs-a/'], 'logs-dlq', existing)).toEqual(['logs-a']);
    expect(subscribedTopics(['/nothing-.*/'], 'logs-dlq', existing)).toEqual([]);
  });

  it("need the cluster's topic list only for patterns", () => {
    expect(hasPatterns(['logs-a', 'logs.b'])).toBe(false);
    expect(hasPatterns(['logs-a', '/logs-.*/'])).toBe(true);
  });
});

describe('collector Kafka configuration', () => {
  const parse = (topics: string[]) =>
    collectorSchema.safeParse({ kafka: { brokers: ['k:9092'], topics, deadLetterTopic: 'logs-dlq' } });

  it('refuses a literal topic that is the dead-letter topic, naming it', () => {
    const result = parse(['logs-a', 'logs-dlq']);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['kafka', 'topics', 1]);
    expect(result.error?.issues[0]?.message).toMatch(/dead-letter topic/);
  });

  it('refuses a pattern that is not a regular expression', () => {
    const result = parse(['/logs-(/']);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/not a valid regular expression/);
  });

  it('accepts a pattern that would match the dead-letter topic: it is left out of the subscription', () => {
    expect(parse(['/logs-.*/']).success).toBe(true);
  });
});
