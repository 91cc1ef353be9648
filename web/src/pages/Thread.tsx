import { useEffect, useState } from "preact/hooks";
import { api, raw, run, type ApiError } from "../api/client";
import { MAX_COMMENT, MAX_CONTENT, MAX_TITLE } from "../limits";
import { navigate } from "../router";
import { useSession } from "../store";
import type { Comment, Post } from "../types";
import { Avatar, describedBy, ErrorBox, FieldError, Loading, PageTitle, Time } from "../ui";

/** A comment box whose text survives errors and reloads (sessionStorage, per post and parent). */
function CommentForm({ postId, parent, onDone, label }: { postId: number; parent: number | null; onDone: (c: Comment) => void; label: string }) {
  const key = `ib.draft.comment.${postId}.${parent ?? "top"}`;
  const [text, setText] = useState(sessionStorage.getItem(key) || "");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `comment-${postId}-${parent ?? "top"}`;
  useEffect(() => { sessionStorage.setItem(key, text); }, [text]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const body: Record<string, unknown> = { post_id: postId, content: text };
    if (parent) body.parent = parent;
    const res = await raw<Comment>("POST", "/api/comments/", body);
    setBusy(false);
    if (!res.ok) { setError(res.error); return; }  // the text stays in the box
    sessionStorage.removeItem(key); setText("");
    onDone(res.data);
  };
  return (
    <form class="form comment-form" onSubmit={submit}>
      <label for={id}>{label}</label>
      <textarea id={id} rows={3} maxLength={MAX_COMMENT} required value={text} onInput={(e) => setText(e.currentTarget.value)} {...describedBy(id, error, "content")} />
      <FieldError id={id} error={error} field="content" />
      <ErrorBox error={error} />
      <button type="submit" disabled={busy || !text.trim()}>{busy ? "Sending…" : parent ? "Send reply" : "Comment"}</button>
    </form>
  );
}

function ReportForm({ targetType, targetId, onClose }: { targetType: "post" | "comment"; targetId: number; onClose: () => void }) {
  const [reason, setReason] = useState("spam");
  const [details, setDetails] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const id = `report-${targetType}-${targetId}`;
  if (done) return <p role="status">Thank you: the report was sent to the moderators. <button type="button" onClick={onClose}>Close</button></p>;
  return (
    <form class="form report" onSubmit={async (e) => {
      e.preventDefault();
      const res = await raw("POST", "/api/reports/", { target_type: targetType, target_id: targetId, reason, details });
      if (res.ok) setDone(true); else setError(res.error);
    }}>
      <fieldset>
        <legend>Report this {targetType}</legend>
        <label for={id + "-reason"}>Reason</label>
        <select id={id + "-reason"} value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
          <option value="spam">Spam</option><option value="abuse">Abuse</option>
          <option value="illegal">Illegal</option><option value="other">Other</option>
        </select>
        <label for={id + "-details"}>Details{reason === "other" ? " (required)" : " (optional)"}</label>
        <textarea id={id + "-details"} rows={2} maxLength={1000} value={details} onInput={(e) => setDetails(e.currentTarget.value)} />
        <ErrorBox error={error} />
        <button type="submit">Send report</button> <button type="button" onClick={onClose}>Cancel</button>
      </fieldset>
    </form>
  );
}

function CommentNode({ c, children, post, reload }: { c: Comment; children: Comment[][]; post: Post; reload: () => void }) {
  const s = useSession();
  const [replying, setReplying] = useState(false);
  const [editing, setEditing] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [text, setText] = useState(c.content);
  const [error, setError] = useState<ApiError | null>(null);
  const mine = s.me && c.author && s.me.id === c.author.id;
  const placeholder = c.is_deleted || c.removed;
  const kids = childrenOf(children, c.id);
  return (
    <li class="comment" id={`comment-${c.id}`}>
      <article aria-label={placeholder ? "Deleted comment" : `Comment by ${c.author?.username}`}>
        {placeholder ? <p class="meta">[{c.removed ? "removed by a moderator" : "deleted"}]</p> : (
          <>
            <p class="meta"><Avatar url={c.author?.avatar_url} name={c.author?.username || "?"} /> <strong>{c.author?.username}</strong> · <Time at={c.created_at} />{c.edited ? " · edited" : ""}</p>
            {editing ? (
              <form class="form" onSubmit={async (e) => {
                e.preventDefault();
                const res = await raw<Comment>("PATCH", `/api/comments/${c.id}/`, { content: text });
                if (res.ok) { setEditing(false); setError(null); reload(); } else setError(res.error);
              }}>
                <label for={`edit-${c.id}`}>Edit comment</label>
                <textarea id={`edit-${c.id}`} rows={3} maxLength={MAX_COMMENT} value={text} onInput={(e) => setText(e.currentTarget.value)} />
                <ErrorBox error={error} />
                <button type="submit">Save</button> <button type="button" onClick={() => { setEditing(false); setText(c.content); }}>Cancel</button>
              </form>
            ) : <p class="content">{c.content}</p>}
            <div class="actions">
              {s.me && <button type="button" aria-expanded={replying} onClick={() => setReplying(!replying)}>Reply</button>}
              {mine && !editing && <button type="button" onClick={() => setEditing(true)}>Edit</button>}
              {(mine || s.me?.is_admin) && <button type="button" onClick={async () => {
                if (!confirm("Delete this comment?")) return;
                const res = await raw("DELETE", `/api/comments/${c.id}/`);
                if (res.ok) reload(); else setError(res.error);
              }}>Delete</button>}
              {s.me && !mine && <button type="button" onClick={() => setReporting(!reporting)}>Report</button>}
              {s.me?.is_admin && <button type="button" onClick={async () => {
                const reason = prompt("Reason for removing this comment"); if (!reason) return;
                const res = await raw("POST", `/api/comments/${c.id}/remove/`, { reason });
                if (res.ok) reload(); else setError(res.error);
              }}>Remove</button>}
            </div>
            {!editing && <ErrorBox error={error} />}
            {reporting && <ReportForm targetType="comment" targetId={c.id} onClose={() => setReporting(false)} />}
            {replying && <CommentForm postId={post.id} parent={c.id} label={`Reply to ${c.author?.username}`} onDone={() => { setReplying(false); reload(); }} />}
          </>
        )}
      </article>
      {kids.length > 0 && <ul class="replies">{kids.map((k) => <CommentNode key={k.id} c={k} children={children} post={post} reload={reload} />)}</ul>}
    </li>
  );
}

function childrenOf(groups: Comment[][], id: number | null): Comment[] {
  return groups.find((g) => g.length && g[0].parent === id) || [];
}

export function Thread({ id }: { id: number }) {
  const s = useSession();
  const [post, setPost] = useState<Post | null>(null);
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [editing, setEditing] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");

  const loadPost = async () => {
    const res = await run<Post>(api.GET("/api/posts/{id}/", { params: { path: { id } } }) as never);
    if (res.ok) { setPost(res.data); setError(null); } else setError(res.error);
  };
  const loadComments = async () => {
    const res = await run<Comment[]>(api.GET("/api/comments/", { params: { query: { post_id: id, limit: 100 } as never } }) as never);
    if (res.ok) setComments(res.data); else setError(res.error);
  };
  const reload = () => { loadPost(); loadComments(); };
  useEffect(() => { setPost(null); setComments(null); reload(); }, [id]);
  // Live: the post's public stream (comments, likes, edits); nothing when the server has no
  // stream (a non-200 answer closes an EventSource for good).
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const source = new EventSource(`/api/stream/?streams=post:${id}`);
    let timer: number | undefined;
    const soon = (what: () => void) => { window.clearTimeout(timer); timer = window.setTimeout(what, 200); };
    for (const name of ["comment_created", "comment_updated", "comment_deleted"]) source.addEventListener(name, () => soon(loadComments));
    for (const name of ["likes", "post_updated", "reset"]) source.addEventListener(name, () => soon(reload));
    source.addEventListener("post_deleted", () => { setError({ status: 404, code: "post_not_found", message: "This post was deleted or removed." }); setPost(null); });
    return () => { source.close(); window.clearTimeout(timer); };
  }, [id]);

  if (error && !post) return <section><h1>Post</h1><ErrorBox error={error} retry={reload} /><p><a href="/">Back to the board</a></p></section>;
  if (!post) return <Loading label="Loading the post…" />;
  const mine = s.me?.id === post.author.id;
  const liked = !!s.me && !!post.likes?.some((l) => l.user_id === s.me!.id);
  const groups: Comment[][] = [];
  for (const c of comments || []) {
    const g = groups.find((x) => x[0].parent === c.parent);
    if (g) g.push(c); else groups.push([c]);
  }

  return (
    <section>
      <article class="post">
        {editing ? (
          <form class="form" onSubmit={async (e) => {
            e.preventDefault();
            const res = await raw<Post>("PATCH", `/api/posts/${post.id}/`, { title, content });
            if (res.ok) { setPost({ ...post, ...res.data }); setEditing(false); setActionError(null); } else setActionError(res.error);
          }}>
            <h1>Edit post</h1>
            <label for="edit-title">Title</label>
            <input id="edit-title" maxLength={MAX_TITLE} value={title} onInput={(e) => setTitle(e.currentTarget.value)} {...describedBy("edit-title", actionError, "title")} />
            <FieldError id="edit-title" error={actionError} field="title" />
            <label for="edit-content">Content</label>
            <textarea id="edit-content" rows={6} maxLength={MAX_CONTENT} value={content} onInput={(e) => setContent(e.currentTarget.value)} {...describedBy("edit-content", actionError, "content")} />
            <FieldError id="edit-content" error={actionError} field="content" />
            <ErrorBox error={actionError} />
            <button type="submit">Save</button> <button type="button" onClick={() => setEditing(false)}>Cancel</button>
          </form>
        ) : (
          <>
            <PageTitle title={post.title}>{post.title}</PageTitle>
            <p class="meta"><Avatar url={post.author.avatar_url} name={post.author.username} /> {post.author.username} · <Time at={post.created_at} />{post.edited ? " · edited" : ""}{post.removed ? " · removed" : ""}</p>
            {post.image_url && <a href={post.image_url}><img class="full" src={post.image_url} alt={`Image of “${post.title}”`} /></a>}
            <p class="content">{post.content}</p>
          </>
        )}
        <div class="actions">
          <button type="button" aria-pressed={liked} disabled={!s.me} title={s.me ? "" : "Log in to like"} onClick={async () => {
            const res = await raw<{ liked: boolean; likes_count: number }>("POST", `/api/posts/${post.id}/like/`);
            if (res.ok) { setActionError(null); loadPost(); } else setActionError(res.error);
          }}>{liked ? "♥ Liked" : "♡ Like"} <span data-testid="likes-count">{post.likes_count}</span></button>
          {mine && !editing && <button type="button" onClick={() => { setTitle(post.title); setContent(post.content); setEditing(true); }}>Edit</button>}
          {(mine || s.me?.is_admin) && <button type="button" onClick={async () => {
            if (!confirm("Delete this post and its comments?")) return;
            const res = await raw("DELETE", `/api/posts/${post.id}/`);
            if (res.ok) navigate("/"); else setActionError(res.error);
          }}>Delete</button>}
          {s.me && !mine && <button type="button" onClick={() => setReporting(!reporting)}>Report</button>}
          {s.me?.is_admin && <button type="button" onClick={async () => {
            const reason = prompt(post.removed ? "Reason for restoring" : "Reason for removing"); if (!reason) return;
            const res = await raw("POST", `/api/posts/${post.id}/${post.removed ? "restore" : "remove"}/`, { reason });
            if (res.ok) loadPost(); else setActionError(res.error);
          }}>{post.removed ? "Restore" : "Remove"}</button>}
        </div>
        {!editing && <ErrorBox error={actionError} />}
        {reporting && <ReportForm targetType="post" targetId={post.id} onClose={() => setReporting(false)} />}
      </article>
      <section class="comments" aria-labelledby="comments-h">
        <h2 id="comments-h">Comments ({post.comments_count})</h2>
        {s.me ? <CommentForm postId={post.id} parent={null} label="Your comment" onDone={reload} />
          : <p><a href={`/login?next=/posts/${post.id}`}>Log in</a> to comment.</p>}
        {comments === null ? <Loading label="Loading comments…" /> : comments.length === 0 ? <p class="empty">No comments yet.</p> : (
          <ul class="thread">{childrenOf(groups, null).map((c) => <CommentNode key={c.id} c={c} children={groups} post={post} reload={reload} />)}</ul>
        )}
      </section>
    </section>
  );
}
