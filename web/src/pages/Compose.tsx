import { useEffect, useState } from "preact/hooks";
import { raw, type ApiError } from "../api/client";
import { IMAGE_TYPES, imageProblem, MAX_CONTENT, MAX_TITLE } from "../limits";
import { navigate } from "../router";
import { useSession } from "../store";
import type { Post } from "../types";
import { describedBy, ErrorBox, FieldError, Loading, PageTitle } from "../ui";

const DRAFT = "ib.draft.post";

export function Compose() {
  const s = useSession();
  const saved = JSON.parse(sessionStorage.getItem(DRAFT) || "{}");
  const [title, setTitle] = useState<string>(saved.title || "");
  const [content, setContent] = useState<string>(saved.content || "");
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => { sessionStorage.setItem(DRAFT, JSON.stringify({ title, content })); }, [title, content]);
  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);

  if (s.loading) return <Loading />;
  if (!s.me) return <section><PageTitle title="New post">New post</PageTitle><p><a href="/login?next=/compose">Log in</a> to post.</p></section>;
  const ban = s.me.ban;

  const pick = (f: File | null) => {
    setFile(null); setPreview(null);
    const fields = { ...(error?.fields || {}) }; delete fields.image;
    setError(error ? { ...error, fields } : null);
    if (!f) return;
    const problem = imageProblem(f);
    if (problem) { setError({ status: 0, code: "invalid_image", message: "Please fix the image.", fields: { image: problem } }); return; }
    setFile(f); setPreview(URL.createObjectURL(f));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const form = new FormData();
    form.set("title", title); form.set("content", content);
    if (file) form.set("image", file);
    const res = await raw<Post>("POST", "/api/posts/", form);
    setBusy(false);
    if (res.ok) { sessionStorage.removeItem(DRAFT); navigate(`/posts/${res.data.id}`); return; }
    const err = res.error;
    if (err.code === "image_too_large" || err.status === 413) err.fields = { ...(err.fields || {}), image: err.message };
    if (["invalid_image", "image_too_many_pixels"].includes(err.code)) err.fields = { ...(err.fields || {}), image: err.message };
    setError(err);
  };

  return (
    <section>
      <PageTitle title="New post">New post</PageTitle>
      {ban && (
        <div class="error" role="alert" data-testid="ban-notice">
          <p>You are banned {ban.expires_at ? `until ${new Date(ban.expires_at).toLocaleString()}` : "permanently"}: {ban.reason}. You cannot post.</p>
        </div>
      )}
      <form class="form" onSubmit={submit} noValidate>
        <ErrorBox error={error} />
        <label for="title">Title</label>
        <input id="title" required maxLength={MAX_TITLE} value={title} onInput={(e) => setTitle(e.currentTarget.value)} {...describedBy("title", error, "title")} />
        <FieldError id="title" error={error} field="title" />
        <label for="content">Content</label>
        <textarea id="content" required rows={8} maxLength={MAX_CONTENT} value={content} onInput={(e) => setContent(e.currentTarget.value)} {...describedBy("content", error, "content")} />
        <p class="hint">{content.length} / {MAX_CONTENT}</p>
        <FieldError id="content" error={error} field="content" />
        <label for="image">Image (JPEG or PNG, at most 5 MB, optional)</label>
        <input id="image" type="file" accept={IMAGE_TYPES.join(",")} onChange={(e) => pick(e.currentTarget.files?.[0] || null)} {...describedBy("image", error, "image")} />
        <FieldError id="image" error={error} field="image" />
        {preview && <img class="preview" src={preview} alt="Preview of the chosen image" />}
        <button type="submit" disabled={busy || !!ban}>{busy ? "Posting…" : "Post"}</button>
      </form>
    </section>
  );
}
