import { StatusPage } from '../features/status/status-page';
import { AppFrame } from './app-frame';
import { NotFoundPage } from './not-found-page';

/** Path → page. Only the status page exists so far; the server answers every HTML GET with this SPA. */
function pageFor(pathname: string) {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/status' || path === '/index.html') return <StatusPage />;
  return <NotFoundPage />;
}

export function App() {
  return <AppFrame>{pageFor(window.location.pathname)}</AppFrame>;
}
