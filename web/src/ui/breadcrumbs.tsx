/**
 * Breadcrumbs after the DADS pattern: an ordered list in a labelled nav, links to every level but
 * the last, which is marked aria-current="page".
 */
import { routeLink } from '../app/router';
import { linkClass } from './link';

export interface Crumb {
  label: string;
  /** Omitted for the current page. */
  path?: string;
}

export function Breadcrumbs({ label, items }: { label: string; items: Crumb[] }) {
  return (
    <nav aria-label={label} data-testid="breadcrumbs">
      <ol className="flex flex-wrap items-center gap-x-2 gap-y-1 text-dns-16N-130">
        {items.map((item, i) => {
          const last = i === items.length - 1;
          return (
            <li key={`${i}-${item.label}`} className="flex items-center gap-2">
              {item.path && !last ? (
                <a className={linkClass} {...routeLink(item.path)}>
                  {item.label}
                </a>
              ) : (
                <span aria-current={last ? 'page' : undefined} className="text-solid-gray-900">
                  {item.label}
                </span>
              )}
              {!last && (
                <svg aria-hidden="true" focusable="false" viewBox="0 0 16 16" className="size-4 text-solid-gray-700">
                  <path d="M6 3.5 10.5 8 6 12.5l-1-1L8.5 8 5 4.5z" fill="currentColor" />
                </svg>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
