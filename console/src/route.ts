/**
 * The page and its state (filters, range, selection) live in the address's fragment:
 * `#/events?f.comm==sh&q=…`. A link or a reload shows the same view, and the fragment never
 * reaches the agent or its logs.
 */
import { useEffect, useState } from 'preact/hooks';

export const PAGES = ['events', 'alerts', 'containers', 'trackers', 'health'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  params: URLSearchParams;
}

export function readRoute(hash = location.hash): Route {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash);
  const page = (PAGES as readonly string[]).includes(m?.[1] ?? '') ? (m![1] as Page) : 'events';
  return { page, params: new URLSearchParams(m?.[2] ?? '') };
}

export function hrefOf(page: Page, params?: URLSearchParams | Record<string, string>): string {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams(params ?? {});
  const s = p.toString();
  return `#/${page}${s ? `?${s}` : ''}`;
}

/** Changes the state in the address without a new history entry per keystroke. */
export function writeParams(page: Page, params: URLSearchParams): void {
  const href = hrefOf(page, params);
  if (href !== location.hash) {
    history.replaceState(null, '', href);
    window.dispatchEvent(new Event('eunomia:route'));
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const on = (): void => setRoute(readRoute());
    window.addEventListener('hashchange', on);
    window.addEventListener('eunomia:route', on);
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('eunomia:route', on);
    };
  }, []);
  return route;
}
