import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, raw, run, type ApiError } from "../api/client";
import { useSession } from "../store";
import type { ModlogEntry, Page, Report } from "../types";
import { ErrorBox, Loading, PageTitle, Time } from "../ui";

function Tabs({ path }: { path: string }) {
  const tabs: [string, string][] = [["/admin", "Reports"], ["/admin/bans", "Bans"], ["/admin/modlog", "Moderation log"], ["/admin/analytics", "Analytics"]];
  return (
    <nav class="tabs" aria-label="Admin">
      {tabs.map(([href, label]) => <a href={href} aria-current={path === href ? "page" : undefined}>{label}</a>)}
    </nav>
  );
}

function Reports({ query }: { query: URLSearchParams }) {
  const status = query.get("status") ?? "open";
  const [data, setData] = useState<Page<Report> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    setError(null);
    const res = await raw<Page<Report>>("GET", `/api/reports/?limit=50${status ? "&status=" + status : ""}`);
    if (res.ok) setData(res.data); else setError(res.error);
  };
  useEffect(() => { load(); }, [status]);
  const resolve = async (r: Report, action: string) => {
    const body: Record<string, unknown> = { action, note: "" };
    if (action === "ban") {
      const days = prompt("Ban for how many days? (empty: permanently)");
      if (days === null) return;
      body.ban_days = days.trim() ? Number(days) : null;
    }
    const res = await raw("POST", `/api/reports/${r.id}/resolve/`, body);
    if (res.ok) load(); else setError(res.error);
  };
  return (
    <section>
      <h2>Reports queue</h2>
      <p class="toolbar">Show: <a href="/admin?status=open" aria-current={status === "open" ? "true" : undefined}>open</a>
        <a href="/admin?status=resolved" aria-current={status === "resolved" ? "true" : undefined}>resolved</a>
        <a href="/admin?status=" aria-current={status === "" ? "true" : undefined}>all</a></p>
      <ErrorBox error={error} retry={load} />
      {!data && !error && <Loading />}
      {data && data.results.length === 0 && <p class="empty">No reports.</p>}
      <ul class="reports">
        {data?.results.map((r) => (
          <li class="card" key={r.id}>
            <p><span class="tag">{r.reason}</span> {r.target_type} #{r.target_id} in <a href={`/posts/${r.post_id}`}>post {r.post_id}</a> by {r.target.author?.username ?? "(erased)"}</p>
            {r.target.title && <p><strong>{r.target.title}</strong></p>}
            <blockquote>{r.target.content}</blockquote>
            {r.details && <p>Reporter's note: {r.details}</p>}
            <p class="meta">Reported by {r.reporter?.username ?? "(erased)"} · <Time at={r.created_at} /> · {r.status}{r.resolution ? ` (${r.resolution.action})` : ""}</p>
            {r.status === "open" && (
              <div class="actions">
                <button type="button" onClick={() => resolve(r, "dismiss")}>Dismiss</button>
                <button type="button" onClick={() => resolve(r, "remove")}>Remove content</button>
                <button type="button" class="danger" onClick={() => resolve(r, "ban")}>Remove and ban author</button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Bans() {
  const [userId, setUserId] = useState(""); const [reason, setReason] = useState(""); const [days, setDays] = useState("7");
  const [error, setError] = useState<ApiError | null>(null); const [msg, setMsg] = useState("");
  const act = async (ban: boolean) => {
    setError(null); setMsg("");
    const res = ban
      ? await raw("POST", `/api/users/${userId}/ban/`, { reason, days: days.trim() ? Number(days) : null })
      : await raw("DELETE", `/api/users/${userId}/ban/`, reason ? { reason } : undefined);
    if (res.ok) setMsg(ban ? `User ${userId} banned.` : `User ${userId} unbanned.`); else setError(res.error);
  };
  return (
    <section>
      <h2>Bans</h2>
      <form class="form narrow" onSubmit={(e) => { e.preventDefault(); act(true); }}>
        <label for="ban-user">User id</label>
        <input id="ban-user" inputMode="numeric" required value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        <label for="ban-reason">Reason</label>
        <input id="ban-reason" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        <label for="ban-days">Days (empty: permanent)</label>
        <input id="ban-days" inputMode="numeric" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        <ErrorBox error={error} />
        {msg && <p role="status">{msg}</p>}
        <div class="actions"><button type="submit" class="danger">Ban</button><button type="button" onClick={() => act(false)}>Lift ban</button></div>
      </form>
    </section>
  );
}

function Modlog() {
  const [data, setData] = useState<Page<ModlogEntry> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    const res = await raw<Page<ModlogEntry>>("GET", "/api/modlog/?limit=50");
    if (res.ok) setData(res.data); else setError(res.error);
  };
  useEffect(() => { load(); }, []);
  return (
    <section>
      <h2>Moderation log</h2>
      <ErrorBox error={error} retry={load} />
      {!data && !error && <Loading />}
      {data && (
        // A table wider than the screen scrolls sideways: keyboard users reach it by Tab.
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Moderation log table"><table>
          <caption class="sr-only">Moderation actions, newest first</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Reason</th><th scope="col">Moderator</th></tr></thead>
          <tbody>{data.results.map((e) => (
            <tr key={e.id}><td><Time at={e.created_at} /></td><td>{e.action}</td><td>{e.target_type} {e.target_id}</td><td>{e.reason}</td><td>{e.moderator?.username ?? ""}</td></tr>
          ))}</tbody>
        </table></div>
      )}
    </section>
  );
}

function Chart({ title, labels, x, series }: { title: string; labels: string[]; x: number[]; series: number[][] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const colors = ["#2563eb", "#16a34a", "#dc2626"];
    const width = Math.min(ref.current.clientWidth || 600, 900);
    const plot = new uPlot({
      title, width, height: 220,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i % 3], width: 2 }))],
      axes: [{ stroke: "currentColor" }, { stroke: "currentColor" }],
    }, [x, ...series] as uPlot.AlignedData, ref.current);
    return () => plot.destroy();
  }, [title, x.length, series.map((s) => s.join()).join("|")]);
  return <figure class="chart" tabIndex={0} aria-label={title}><div ref={ref} role="img" aria-label={`${title}: chart`} /><figcaption class="sr-only">{title}</figcaption></figure>;
}

const day = (d: string) => Date.parse(d + "T00:00:00Z") / 1000;

function Analytics() {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86400e3).toISOString().slice(0, 10);
  const [start, setStart] = useState(monthAgo); const [end, setEnd] = useState(today);
  const [userId, setUserId] = useState("");
  const [stats, setStats] = useState<any>(null);
  const [activity, setActivity] = useState<any>(null);
  const [moderation, setModeration] = useState<any>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    setError(null);
    const s = await run<any>(api.GET("/api/analytics/posts/stats/", { params: { query: { start_date: start, end_date: end } } }) as never);
    if (s.ok) setStats(s.data); else setError(s.error);
    const a = await run<any>(api.GET("/api/analytics/user-activity/", { params: { query: (userId.trim() ? { user_id: Number(userId) } : {}) as never } }) as never);
    if (a.ok) setActivity(a.data); else { setActivity(null); setError(a.error); }
    const m = await raw<any>("GET", "/api/analytics/moderation/?days=30");
    setModeration(m.ok ? m.data : null);
  };
  useEffect(() => { load(); }, []);
  return (
    <section>
      <h2>Analytics</h2>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); load(); }}>
        <label for="a-start">From</label><input id="a-start" type="date" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
        <label for="a-end">To</label><input id="a-end" type="date" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
        <label for="a-user">Activity of user id (empty: you)</label><input id="a-user" inputMode="numeric" size={6} value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        <button type="submit">Show</button>
      </form>
      <ErrorBox error={error} retry={load} />
      {!stats && !error && <Loading />}
      {stats && (
        <div class="stats">
          <p><strong>{stats.total_posts}</strong> posts, {Number(stats.posts_per_day).toFixed(2)} per day; <strong>{stats.likes_statistics.total_likes}</strong> likes ({Number(stats.likes_statistics.avg_likes_per_post).toFixed(2)} per post).</p>
          {stats.likes_statistics.most_liked_post && <p>Most liked: <a href={`/posts/${stats.likes_statistics.most_liked_post.post_id}`}>{stats.likes_statistics.most_liked_post.title}</a> ({stats.likes_statistics.most_liked_post.likes_count})</p>}
          <h3>Most active users</h3>
          <ol>{stats.most_active_users.map((u: any) => <li>{u.username}: {u.posts_count} posts</li>)}</ol>
        </div>
      )}
      {activity && <Chart title={`Activity of user ${activity.user_id}, last 30 days`} labels={["posts", "comments", "likes"]}
        x={activity.activity_timeline.map((d: any) => day(d.date))}
        series={["posts", "comments", "likes"].map((k) => activity.activity_timeline.map((d: any) => d[k]))} />}
      {moderation ? <Chart title="Reports per day" labels={["created", "resolved"]}
        x={moderation.reports_per_day.map((d: any) => day(d.date))}
        series={["created", "resolved"].map((k) => moderation.reports_per_day.map((d: any) => d[k]))} />
        : <p class="hint">Moderation analytics are not available on this server.</p>}
    </section>
  );
}

export default function Admin({ path, query }: { path: string; query: URLSearchParams }) {
  const s = useSession();
  if (s.loading) return <Loading />;
  if (!s.me?.is_admin) return <section><PageTitle title="Admin">Admin</PageTitle><p>Only administrators can see this page.</p></section>;
  return (
    <section>
      <PageTitle title="Admin">Admin</PageTitle>
      <Tabs path={path} />
      {path === "/admin/bans" ? <Bans /> : path === "/admin/modlog" ? <Modlog /> : path === "/admin/analytics" ? <Analytics /> : <Reports query={query} />}
    </section>
  );
}
