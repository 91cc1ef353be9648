import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ApiError } from "./api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return <p class="loading" role="status" aria-live="polite">{label}</p>;
}

export function ErrorBox({ error, retry }: { error: ApiError | null; retry?: () => void }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <p>{error.message}</p>
      {retry && <button type="button" onClick={retry}>Retry</button>}
    </div>
  );
}

export function FieldError({ id, error, field }: { id: string; error: ApiError | null; field: string }) {
  const msg = error?.fields?.[field];
  if (!msg) return null;
  return <p class="field-error" id={id + "-error"} role="alert">{msg}</p>;
}

export function Time({ at }: { at: string }) {
  const d = new Date(at);
  return <time dateTime={at} title={d.toISOString()}>{d.toLocaleString()}</time>;
}

export function Avatar({ url, name }: { url?: string | null; name: string }) {
  if (url) return <img class="avatar" src={url} alt="" width={32} height={32} loading="lazy" />;
  return <span class="avatar avatar-letter" aria-hidden="true">{name.slice(0, 1).toUpperCase()}</span>;
}

let navigated = false;
window.addEventListener("ib:navigate", () => { navigated = true; });
window.addEventListener("popstate", () => { navigated = true; });

/** Puts the focus on the page's heading after an in-app navigation (screen readers hear the
 * new page); on the first load the focus stays at the top, where Tab finds the skip link. */
export function PageTitle({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => { document.title = `${title} · Imageboard`; if (navigated) ref.current?.focus(); }, [title]);
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}

export function describedBy(id: string, error: ApiError | null, field: string) {
  return error?.fields?.[field] ? { "aria-describedby": id + "-error", "aria-invalid": true as const } : {};
}
