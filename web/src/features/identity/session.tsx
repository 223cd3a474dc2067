/**
 * Who is signed in, from `GET /api/v1/me`. Loaded on demand (the public status page never asks),
 * refreshed after sign-in steps, and dropped when any request reports the session gone.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { errorCode, onSessionEnded, setCsrfToken } from '../../api/api-client';
import { fetchMe, fetchSessionStage, logout, type Me } from './identity.api';

const PARTIAL_STAGE_CODES = new Set([
  'auth.mfa_required',
  'auth.mfa_enrollment_required',
  'auth.password_change_required',
  'auth.terms_required',
]);

export type SessionState =
  | { status: 'unknown' }
  | { status: 'loading' }
  /** `code` says why when it is worth telling the user (session expired, another stage pending). */
  | { status: 'signed-out'; code: string | null }
  /** /me failed for another reason (network, IP rule, outage); the session may still exist. */
  | { status: 'error'; code: string }
  | { status: 'signed-in'; me: Me };

interface SessionContextValue {
  state: SessionState;
  /** Loads /me once if nobody has yet. */
  ensureLoaded: () => void;
  /** Loads /me again (after a sign-in step or a change to the account). */
  refresh: () => Promise<Me | null>;
  signOut: (everywhere?: boolean) => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'unknown' });
  const stateRef = useRef(state);
  stateRef.current = state;
  const loading = useRef<Promise<Me | null> | null>(null);

  const refresh = useCallback(() => {
    if (loading.current) return loading.current;
    if (stateRef.current.status !== 'signed-in') setState({ status: 'loading' });
    const run = fetchMe()
      .then((me) => {
        setState({ status: 'signed-in', me });
        return me;
      })
      .catch((err: unknown) => {
        const code = errorCode(err);
        if (code.startsWith('auth.')) {
          setCsrfToken(null);
          setState({ status: 'signed-out', code: code === 'auth.unauthenticated' ? null : code });
          // Reloaded in the middle of sign-in: recover the session's CSRF token so that signing in
          // again or signing out is accepted by the server (it refuses both without one).
          if (PARTIAL_STAGE_CODES.has(code)) void fetchSessionStage().then((s) => s && setCsrfToken(s.csrfToken));
        } else {
          setState({ status: 'error', code });
        }
        return null;
      })
      .finally(() => {
        loading.current = null;
      });
    loading.current = run;
    return run;
  }, []);

  const ensureLoaded = useCallback(() => {
    if (stateRef.current.status === 'unknown') void refresh();
  }, [refresh]);

  // A sign-out the server refused leaves the user signed in (the caller shows why), never "signed out".
  const signOut = useCallback(async (everywhere = false) => {
    await logout(everywhere);
    setState({ status: 'signed-out', code: 'signed_out' });
  }, []);

  // A request answered "not signed in" while we thought we were: the session expired or was revoked.
  useEffect(
    () =>
      onSessionEnded(() => {
        if (stateRef.current.status === 'signed-in') {
          setCsrfToken(null);
          setState({ status: 'signed-out', code: 'session.ended' });
        }
      }),
    [],
  );

  const value = useMemo(() => ({ state, ensureLoaded, refresh, signOut }), [state, ensureLoaded, refresh, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in user, for pages rendered only behind the sign-in guard. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe without a signed-in session');
  return state.me;
}
