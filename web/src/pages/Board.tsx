import { useEffect, useState } from "preact/hooks";
import { api, run, type ApiError } from "../api/client";
import { navigate } from "../router";
import type { Page, Post } from "../types";
import { Avatar, ErrorBox, Loading, PageTitle, Time } from "../ui";

const ORDERINGS: [string, string][] = [
  ["-created_at", "Newest first"], ["created_at", "Oldest first"],
  ["-likes_count", "Most liked"], ["likes_count", "Least liked"],
];
const LIMIT = 20;

export function Board({ query }: { query: URLSearchParams }) {
  const page = Math.max(1, Number(query.get("page") || "1") || 1);
  const ordering = query.get("ordering") || "";
  const search = query.get("search") || "";
  const [data, setData] = useState<Page<Post> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [text, setText] = useState(search);

  const load = async () => {
    setLoading(true); setError(null);
    const params: Record<string, string | number> = { page, limit: LIMIT };
    if (ordering) params.ordering = ordering;
    if (search) params.search = search;
    const res = await run<Page<Post>>(api.GET("/api/posts/", { params: { query: params as never } }) as never);
    setLoading(false);
    if (res.ok) { setData(res.data); (window as unknown as { ibBoardShown?: number }).ibBoardShown = performance.now(); }
    else setError(res.error);
  };
  useEffect(() => { load(); }, [page, ordering, search]);
  useEffect(() => { setText(search); }, [search]);

  const go = (changes: Record<string, string | number | null>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) { if (v === null || v === "") q.delete(k); else q.set(k, String(v)); }
    const s = q.toString();
    navigate("/" + (s ? "?" + s : ""));
  };
  const pages = data?.count !== undefined ? Math.max(1, Math.ceil(data.count / LIMIT)) : null;

  return (
    <section>
      <PageTitle title="Board">Board</PageTitle>
      <form class="toolbar" role="search" onSubmit={(e) => { e.preventDefault(); go({ search: text.trim() || null, page: null }); }}>
        <label for="search">Search posts</label>
        <input id="search" type="search" maxLength={200} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit">Search</button>
        <label for="ordering">Order</label>
        <select id="ordering" value={ordering || (search ? "" : "-created_at")} onChange={(e) => go({ ordering: e.currentTarget.value || null, page: null })}>
          {search && <option value="">Best match</option>}
          {ORDERINGS.map(([v, l]) => <option value={v}>{l}</option>)}
        </select>
      </form>
      {search && <p>Results for “{search}”{data?.count !== undefined ? `: ${data.count}` : ""}. <a href="/">Clear search</a></p>}
      <ErrorBox error={error} retry={load} />
      {loading && !data && <Loading label="Loading posts…" />}
      {data && (
        <>
          {data.results.length === 0 && <p class="empty">No posts here yet.</p>}
          <ul class="posts" aria-busy={loading}>
            {data.results.map((p) => (
              <li class="card post-card" key={p.id}>
                {p.thumbnail_url || p.image_url
                  ? <img class="thumb" src={(p.thumbnail_url || p.image_url)!} alt={`Image of “${p.title}”`} loading="lazy" width={120} height={120} />
                  : <span class="thumb thumb-none" aria-hidden="true" />}
                <div>
                  <h2><a href={`/posts/${p.id}`}>{p.title}</a></h2>
                  <p class="meta"><Avatar url={p.author.avatar_url} name={p.author.username} /> {p.author.username} · <Time at={p.created_at} />{p.edited ? " · edited" : ""}</p>
                  <p class="excerpt">{p.content.length > 200 ? p.content.slice(0, 200) + "…" : p.content}</p>
                  <p class="meta"><span>♥ {p.likes_count} likes</span> · <span>{p.comments_count} comments</span></p>
                </div>
              </li>
            ))}
          </ul>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={!data.previous} onClick={() => go({ page: page - 1 })}>Previous page</button>
            <span aria-current="page">Page {page}{pages ? ` of ${pages}` : ""}</span>
            <button type="button" disabled={!data.next} onClick={() => go({ page: page + 1 })}>Next page</button>
          </nav>
        </>
      )}
    </section>
  );
}
