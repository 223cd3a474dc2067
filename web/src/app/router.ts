/**
 * A minimal client-side router: the server answers every HTML GET with this SPA, and the app picks
 * the page from `location.pathname`. Links made with `routeLink` navigate without a reload, and the
 * next page's heading takes focus so screen reader users hear that the page changed.
 */
import { useSyncExternalStore, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
let navigatedInApp = false;

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', () => {
  navigatedInApp = true;
  notify();
});

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current path without a trailing slash ("/" for the root). */
export function currentPath(): string {
  return window.location.pathname.replace(/\/+$/, '') || '/';
}

/** Re-renders the caller when the path changes. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

/** Goes to another page of the app; `replace` keeps the current page out of the history. */
export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (path === window.location.pathname + window.location.search) return;
  navigatedInApp = true;
  if (opts.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.scrollTo(0, 0);
  notify();
}

/** Whether the page was reached by navigating inside the app (not by loading the URL). */
export function wasNavigatedInApp(): boolean {
  return navigatedInApp;
}

/** Props for an `<a>` that navigates inside the app; modified clicks (new tab, …) keep the browser default. */
export function routeLink(path: string) {
  return {
    href: path,
    onClick: (event: MouseEvent<HTMLAnchorElement>) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
        return;
      event.preventDefault();
      navigate(path);
    },
  };
}
