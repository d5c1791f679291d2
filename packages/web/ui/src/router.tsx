// A small history router: paths are real URLs (the server answers index.html for them), links are
// ordinary anchors (so they open in a new tab, and keyboard users activate them with Enter).
import type { AnchorHTMLAttributes, ComponentChildren, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

export function Link({ href, ...rest }: LinkProps) {
  const onClick = (event: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} {...rest} onClick={onClick} />;
}

export const dagPath = (dagId: string) => `/dags/${encodeURIComponent(dagId)}`;
export const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
export const graphPath = (dagId: string) => `/dags/${encodeURIComponent(dagId)}/graph`;
export const runGraphPath = (runId: string) => `/runs/${encodeURIComponent(runId)}/graph`;
export const taskPath = (runId: string, taskId: string, mapIndex = -1) =>
  `/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}${mapIndex >= 0 ? `/${mapIndex}` : ''}`;
