// Session state shared by every page: the token, the signed-in user (GET /api/users/me/)
// and the unread notification count (stream, or polling when there is no stream).
import { useEffect, useState } from "preact/hooks";
import { api, getToken, raw, run, setToken } from "./api/client";
import type { Me } from "./types";

type Listener = () => void;
const listeners = new Set<Listener>();
export const session: { me: Me | null; loading: boolean; unread: number; live: "stream" | "polling" | "off" } =
  { me: null, loading: !!getToken(), unread: 0, live: "off" };
function emit() { for (const l of listeners) l(); }

export function useSession() {
  const [, force] = useState(0);
  useEffect(() => { const l = () => force(n => n + 1); listeners.add(l); return () => { listeners.delete(l); }; }, []);
  return session;
}

export async function loadMe() {
  if (!getToken()) { session.me = null; session.loading = false; emit(); return; }
  if (!session.me) { session.loading = true; emit(); }  // a refresh keeps the pages mounted
  const res = await run<Me>(api.GET("/api/users/me/") as never);
  session.loading = false;
  if (res.ok) { const first = !session.me; session.me = res.data; if (first) startLive(); }
  else if (res.error.status === 401) { setToken(null); session.me = null; stopLive(); }
  emit();
}

export async function signIn(token: string) { setToken(token); session.me = null; await loadMe(); }

export async function signOut(everywhere = false) {
  await raw("POST", everywhere ? "/api/users/logout-all/" : "/api/users/logout/");
  forget();
}
/** Drops the local session (after logout, account deletion or a dead token). */
export function forget() { setToken(null); session.me = null; session.unread = 0; stopLive(); emit(); }

// ---- live unread badge ----
let source: EventSource | null = null;
let pollTimer: number | undefined;
let lastEventId = "";
let retryTimer: number | undefined;

/** Tests may shorten the polling period (localStorage ib.pollMs); the default is 30 s. */
function pollMs() {
  const v = Number(localStorage.getItem("ib.pollMs") || "");
  return v > 0 ? v : 30000;
}

export async function refreshUnread() {
  if (!getToken()) return;
  const res = await raw<{ unread_count?: number; count?: number }>("GET", "/api/notifications/unread-count/");
  if (res.ok) {
    const d = res.data || {};
    session.unread = Number(d.unread_count ?? d.count ?? 0); emit();
  }
}

function startPolling() {
  session.live = "polling"; emit();
  window.clearInterval(pollTimer);
  pollTimer = window.setInterval(refreshUnread, pollMs());
}

async function openStream() {
  const ticket = await raw<{ ticket: string }>("POST", "/api/stream/ticket/");
  if (!ticket.ok) {
    // No stream endpoint (404) or not available: poll unread-count instead.
    startPolling();
    return;
  }
  const params = new URLSearchParams({ streams: "user", ticket: ticket.data.ticket });
  if (lastEventId) params.set("last_event_id", lastEventId);
  source = new EventSource("/api/stream/?" + params.toString());
  session.live = "stream"; emit();
  source.addEventListener("notification", (ev) => {
    lastEventId = (ev as MessageEvent).lastEventId || lastEventId;
    refreshUnread();
    window.dispatchEvent(new CustomEvent("ib:notification"));
  });
  source.addEventListener("reset", () => { refreshUnread(); });
  source.onerror = () => {
    // A used ticket cannot reconnect: close, take a new ticket and resume from the last id.
    source?.close(); source = null;
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(() => { if (session.me) openStream(); }, 3000);
  };
}

export function startLive() {
  stopLive();
  refreshUnread();
  openStream();
}
export function stopLive() {
  source?.close(); source = null;
  window.clearInterval(pollTimer); window.clearTimeout(retryTimer);
  session.live = "off";
}
