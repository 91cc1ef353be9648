import { useEffect, useState } from "preact/hooks";
import { raw, type ApiError } from "../api/client";
import { IMAGE_TYPES, imageProblem } from "../limits";
import { navigate } from "../router";
import { forget, loadMe, session, signOut, useSession } from "../store";
import type { Me } from "../types";
import { Avatar, describedBy, ErrorBox, FieldError, Loading, PageTitle } from "../ui";

function Details({ me }: { me: Me }) {
  const [v, setV] = useState({ first_name: me.first_name, last_name: me.last_name, bio: me.bio || "", email: me.email });
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const f = (k: keyof typeof v, label: string, multi = false) => (
    <>
      <label for={"p-" + k}>{label}</label>
      {multi ? <textarea id={"p-" + k} rows={3} maxLength={500} value={v[k]} onInput={(e) => setV({ ...v, [k]: e.currentTarget.value })} {...describedBy("p-" + k, error, k)} />
        : <input id={"p-" + k} type={(k === "email" ? "email" : "text") as "text"} value={v[k]} onInput={(e) => setV({ ...v, [k]: e.currentTarget.value })} {...describedBy("p-" + k, error, k)} />}
      <FieldError id={"p-" + k} error={error} field={k} />
    </>
  );
  return (
    <form class="form" onSubmit={async (e) => {
      e.preventDefault(); setSaved(false); setError(null);
      const res = await raw<Me>("PATCH", "/api/users/me/", v);
      if (res.ok) { session.me = res.data; setSaved(true); loadMe(); } else setError(res.error);
    }}>
      <h2>Profile</h2>
      {f("first_name", "First name")}{f("last_name", "Last name")}{f("email", "Email")}{f("bio", "About you", true)}
      <ErrorBox error={error} />
      {saved && <p role="status">Saved.</p>}
      <button type="submit">Save profile</button>
    </form>
  );
}

function AvatarForm({ me }: { me: Me }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="form">
      <h2>Avatar</h2>
      <p><Avatar url={me.avatar_url} name={me.username} /></p>
      <label for="avatar">New avatar (JPEG or PNG, at most 5 MB)</label>
      <input id="avatar" type="file" accept={IMAGE_TYPES.join(",")} aria-describedby={error ? "avatar-error" : undefined} onChange={async (e) => {
        const file = e.currentTarget.files?.[0]; if (!file) return;
        const problem = imageProblem(file); if (problem) { setError(problem); return; }
        setBusy(true); setError(null);
        const form = new FormData(); form.set("avatar", file);
        const res = await raw<Me>("PUT", "/api/users/me/avatar/", form);
        setBusy(false);
        if (res.ok) loadMe(); else setError(res.error.message);
      }} />
      {busy && <p role="status">Uploading…</p>}
      {error && <p class="field-error" id="avatar-error" role="alert">{error}</p>}
      {me.avatar_url && <button type="button" onClick={async () => { const r = await raw("DELETE", "/api/users/me/avatar/"); if (r.ok) loadMe(); else setError(r.error.message); }}>Remove avatar</button>}
    </div>
  );
}

function PasswordForm() {
  const [cur, setCur] = useState(""); const [next, setNext] = useState("");
  const [error, setError] = useState<ApiError | null>(null); const [done, setDone] = useState(false);
  return (
    <form class="form" onSubmit={async (e) => {
      e.preventDefault(); setDone(false); setError(null);
      const res = await raw("POST", "/api/users/me/password/", { current_password: cur, new_password: next });
      if (res.ok) { setDone(true); setCur(""); setNext(""); } else setError(res.error);
    }}>
      <h2>Password</h2>
      <label for="cur-pw">Current password</label>
      <input id="cur-pw" type="password" autoComplete="current-password" value={cur} onInput={(e) => setCur(e.currentTarget.value)} {...describedBy("cur-pw", error, "current_password")} />
      <FieldError id="cur-pw" error={error} field="current_password" />
      <label for="new-pw">New password (8 to 128 characters)</label>
      <input id="new-pw" type="password" autoComplete="new-password" value={next} onInput={(e) => setNext(e.currentTarget.value)} {...describedBy("new-pw", error, "new_password")} />
      <FieldError id="new-pw" error={error} field="new_password" />
      <ErrorBox error={error} />
      {done && <p role="status">Password changed; your other sessions were logged out.</p>}
      <button type="submit">Change password</button>
    </form>
  );
}

function Danger() {
  const [error, setError] = useState<ApiError | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [pw, setPw] = useState("");
  return (
    <div class="form">
      <h2>Your data</h2>
      <button type="button" onClick={async () => {
        setError(null);
        const res = await raw<unknown>("GET", "/api/users/me/export/");
        if (!res.ok) { setError(res.error); return; }
        const blob = new Blob([JSON.stringify(res.data, null, 2)], { type: "application/json" });
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob); a.download = `imageboard-export-${session.me?.id}.json`;
        a.click(); setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      }}>Download my data</button>
      <button type="button" onClick={() => signOut(true).then(() => navigate("/"))}>Log out everywhere</button>
      <h2>Delete account</h2>
      {!confirming ? <button type="button" class="danger" onClick={() => setConfirming(true)}>Delete my account…</button> : (
        <form onSubmit={async (e) => {
          e.preventDefault(); setError(null);
          const res = await raw("DELETE", "/api/users/me/", { password: pw });
          if (res.ok) { forget(); navigate("/?deleted=1"); } else setError(res.error);
        }}>
          <p role="alert">This erases your account, posts, comments and likes. It cannot be undone.</p>
          <label for="del-pw">Type your password to confirm</label>
          <input id="del-pw" type="password" autoComplete="current-password" value={pw} onInput={(e) => setPw(e.currentTarget.value)} />
          <button type="submit" class="danger">Delete my account for good</button> <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </form>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

export function Profile() {
  const s = useSession();
  useEffect(() => { if (!s.loading && !s.me) navigate("/login?next=/profile", true); }, [s.loading, s.me]);
  if (s.loading || !s.me) return <Loading />;
  const me = s.me;
  return (
    <section class="narrow">
      <PageTitle title="Your profile">{me.username}</PageTitle>
      <p class="meta">{me.posts_count} posts · {me.comments_count} comments{me.is_admin ? " · admin" : ""}</p>
      {me.ban && <p class="error" role="alert">You are banned {me.ban.expires_at ? `until ${new Date(me.ban.expires_at).toLocaleString()}` : "permanently"}: {me.ban.reason}</p>}
      <Details me={me} />
      <AvatarForm me={me} />
      <PasswordForm />
      <Danger />
    </section>
  );
}
