import type { RoutedEvent } from './event.ts';

/*
 * The shape of `GET /api/events/groups`, types only: the server writes it and
 * the web console reads it from here.
 */

/** One group of the aggregation, by its newest event. */
export interface ApiEventGroup
  extends Pick<RoutedEvent, 'namespace' | 'kind' | 'name' | 'reason' | 'type' | 'message'> {
  route: string;
  robots: readonly string[];
  total: number;
  pending: number;
  firstTime: number;
  lastTime: number;
  sentAt: number | null;
  dueAt: number | null;
}

/** One message handed to a route's robots, and what became of it at each. */
export interface ApiSentMessage {
  /** Counts the messages since the router started. */
  id: number;
  time: number;
  route: string;
  kind: 'single' | 'update' | 'storm';
  title: string;
  robots: {
    robot: string;
    outcome: 'waiting' | 'sent' | 'digested' | 'retrying' | 'dropped';
    detail?: string;
    at: number;
  }[];
}

export interface EventGroupsAnswer {
  /** False on a replica that does not lead: it holds no groups. */
  leading: boolean;
  groups: ApiEventGroup[];
  groupCount: number;
  sent: ApiSentMessage[];
  sentCount: number;
}
