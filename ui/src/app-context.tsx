import { createContext, useContext } from 'react';
import type { ApiClient } from './api/client';
import type { AuthConfig, User } from './api/types';

export interface AppContextValue {
  api: ApiClient;
  authConfig: AuthConfig;
  user: User | null;
  setUser: (u: User | null) => void;
  signOut: () => Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside AppContext');
  return v;
}

export function useApi(): ApiClient {
  return useApp().api;
}

export function isOperator(u: User | null): boolean {
  return !!u && (u.groups ?? []).some((g) => g === 'operator' || g === 'root');
}

export function isRoot(u: User | null): boolean {
  return !!u && (u.groups ?? []).includes('root');
}
