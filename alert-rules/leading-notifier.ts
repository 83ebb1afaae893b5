import type { AlertNotifier, PostableAlert } from './types.ts';

/**
 * The notifier the rules send to: whatever this replica sends to while it
 * leads, and nothing while another replica does (its rules keep evaluating,
 * so a takeover starts from their state).
 */
export class LeadingNotifier implements AlertNotifier {
  target: AlertNotifier | undefined;

  send(alerts: readonly PostableAlert[]): void {
    this.target?.send(alerts);
  }
}
