import { useEffect, useState } from "preact/hooks";
import { api, raw, run, type ApiError } from "../api/client";
import { refreshUnread, useSession } from "../store";
import type { Notification } from "../types";
import { ErrorBox, Loading, PageTitle, Time } from "../ui";

export function Notifications() {
  const s = useSession();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [items, setItems] = useState<Notification[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    setError(null);
    const res = await run<Notification[]>(api.GET("/api/notifications/", { params: { query: { unread_only: unreadOnly, limit: 100 } as never } }) as never);
    if (res.ok) setItems(res.data); else setError(res.error);
  };
  useEffect(() => { if (s.me) load(); }, [unreadOnly, s.me?.id, s.unread]);
  useEffect(() => {
    const on = () => load();
    window.addEventListener("ib:notification", on);
    return () => window.removeEventListener("ib:notification", on);
  }, [unreadOnly]);
  if (s.loading) return <Loading />;
  if (!s.me) return <section><PageTitle title="Notifications">Notifications</PageTitle><p><a href="/login?next=/notifications">Log in</a> to see your notifications.</p></section>;
  const markRead = async (n: Notification) => {
    const res = await raw("PATCH", `/api/notifications/${n.id}/mark-read/`);
    if (res.ok) { load(); refreshUnread(); } else setError(res.error);
  };
  return (
    <section>
      <PageTitle title="Notifications">Notifications</PageTitle>
      <div class="toolbar">
        <label><input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.currentTarget.checked)} /> Unread only</label>
        <button type="button" onClick={async () => {
          const res = await raw("POST", "/api/notifications/mark-all-read/");
          if (res.ok) { load(); refreshUnread(); } else setError(res.error);
        }}>Mark all as read</button>
        <span class="hint">Live: {s.live === "stream" ? "stream" : s.live === "polling" ? "checking every 30 s" : "off"}</span>
      </div>
      <ErrorBox error={error} retry={load} />
      {items === null ? <Loading label="Loading notifications…" /> : items.length === 0 ? <p class="empty">Nothing here.</p> : (
        <ul class="notifications" data-testid="notifications">
          {items.map((n) => (
            <li class={"card" + (n.read ? "" : " unread")} key={n.id} data-type={n.type}>
              <p><span class="tag">{n.type}</span> {n.data.post_id ? <a href={`/posts/${n.data.post_id}${n.data.comment_id ? `#comment-${n.data.comment_id}` : ""}`}>{n.message}</a> : n.message}</p>
              <p class="meta"><Time at={n.created_at} />{n.read ? " · read" : ""}</p>
              {!n.read && <button type="button" onClick={() => markRead(n)}>Mark as read</button>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
