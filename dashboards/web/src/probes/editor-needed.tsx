import type { Whoami } from '../whoami.ts';

/** Says why this token may not do something that needs an editor's, in place of the buttons. */
export function EditorNeeded({ who, doing }: { who: Whoami; doing: string }) {
  return (
    <span class="note">
      {doing} needs an editor's token; {who.name}'s is a {who.role}'s.
    </span>
  );
}
