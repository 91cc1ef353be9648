import { useEffect, useState } from "preact/hooks";

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, "", to); else history.pushState(null, "", to);
  window.dispatchEvent(new Event("ib:navigate"));
  window.scrollTo(0, 0);
}

export function useLocation() {
  const [loc, setLoc] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setLoc(location.pathname + location.search);
    window.addEventListener("popstate", on);
    window.addEventListener("ib:navigate", on);
    return () => { window.removeEventListener("popstate", on); window.removeEventListener("ib:navigate", on); };
  }, []);
  return loc;
}

/** Same-origin links navigate without a reload (modified clicks open as usual). */
export function interceptLinks() {
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element)?.closest?.("a");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("/api/") || href.startsWith("/media/") || a.target || a.hasAttribute("download")) return;
    ev.preventDefault();
    navigate(href);
  });
}
