import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';

export interface Whoami {
  name: string;
  role: 'viewer' | 'editor' | 'admin' | 'agent';
  namespaces: string[] | null;
  auth: boolean;
}

/** Whether the token may change things (an editor's or an admin's), as the API decides for its routes. */
export function canEdit(who: Whoami | undefined): boolean {
  return who?.role === 'editor' || who?.role === 'admin';
}

/** Who the token of this tab is; undefined until the API answered. */
export function useWhoami(): Whoami | undefined {
  const [who, setWho] = useState<Whoami>();
  useEffect(() => {
    api<Whoami>('/api/whoami').then(setWho, () => setWho(undefined));
  }, []);
  return who;
}
