/** `/logs-.*\/` is a pattern, anything else a topic name. */
function patternSource(topic: string): string | undefined {
  return /^\/(.+)\/$/.exec(topic)?.[1];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What the consumer subscribes to for one configured topic. A pattern must
 * match the whole topic name, as Kafka's own regex subscriptions do (an
 * unanchored `logs-.*` would also take `lookout-logs-dlq`), and never takes
 * the dead-letter topic: the collector would otherwise read back what it
 * dead-lettered, dead-letter it again, and grow that topic forever.
 */
export function topicSubscription(topic: string, deadLetterTopic: string): string | RegExp {
  const source = patternSource(topic);
  if (source === undefined) return topic;
  return new RegExp(`^(?!${escapeRegExp(deadLetterTopic)}$)(?:${source})$`);
}

/** Why a configured topic cannot be consumed, or undefined when it can. */
export function topicProblem(topic: string, deadLetterTopic: string): string | undefined {
  const source = patternSource(topic);
  if (source === undefined) {
    return topic === deadLetterTopic
      ? `"${topic}" is also the dead-letter topic; the collector would consume what it dead-letters`
      : undefined;
  }
  try {
    new RegExp(source);
  } catch (err) {
    return `${topic} is not a valid regular expression: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The topics to consume: the configured names, and every existing topic a
 * configured pattern takes. Patterns are read against the topics that exist
 * when the consumer joins the group.
 */
export function subscribedTopics(
  configured: readonly string[],
  deadLetterTopic: string,
  existing: readonly string[],
): string[] {
  const topics = new Set<string>();
  for (const topic of configured) {
    const subscription = topicSubscription(topic, deadLetterTopic);
    if (typeof subscription === 'string') topics.add(subscription);
    else for (const name of existing) if (subscription.test(name)) topics.add(name);
  }
  return [...topics].sort();
}

/** Whether any configured topic is a pattern, which takes a list of the cluster's topics. */
export function hasPatterns(configured: readonly string[]): boolean {
  return configured.some((topic) => patternSource(topic) !== undefined);
}
