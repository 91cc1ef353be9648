import { useState } from "preact/hooks";
import { raw, type ApiError } from "../api/client";
import { navigate } from "../router";
import { signIn } from "../store";
import { describedBy, ErrorBox, FieldError, PageTitle } from "../ui";

function Field({ id, label, type = "text", value, set, error, auto }: {
  id: string; label: string; type?: string; value: string; set: (v: string) => void; error: ApiError | null; auto: string;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <input id={id} name={id} type={type as "text"} autoComplete={auto} value={value} onInput={(e) => set(e.currentTarget.value)} {...describedBy(id, error, id)} />
      <FieldError id={id} error={error} field={id} />
    </>
  );
}

export function Login({ next }: { next: string }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="narrow">
      <PageTitle title="Log in">Log in</PageTitle>
      <form class="form" onSubmit={async (e) => {
        e.preventDefault(); setBusy(true); setError(null);
        const res = await raw<{ token: string }>("POST", "/api/users/login/", { username, password });
        setBusy(false);
        if (!res.ok) { setError(res.error); return; }
        await signIn(res.data.token);
        navigate(next.startsWith("/") ? next : "/");
      }}>
        <Field id="username" label="Username" value={username} set={setUsername} error={error} auto="username" />
        <Field id="password" label="Password" type="password" value={password} set={setPassword} error={error} auto="current-password" />
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
      </form>
      <p>No account? <a href="/register">Register</a>.</p>
    </section>
  );
}

export function Register() {
  const [v, setV] = useState({ username: "", email: "", password: "", first_name: "", last_name: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof v) => (x: string) => setV({ ...v, [k]: x });
  return (
    <section class="narrow">
      <PageTitle title="Register">Register</PageTitle>
      <form class="form" onSubmit={async (e) => {
        e.preventDefault(); setBusy(true); setError(null);
        const body: Record<string, string> = { username: v.username, email: v.email, password: v.password };
        if (v.first_name) body.first_name = v.first_name;
        if (v.last_name) body.last_name = v.last_name;
        const res = await raw<{ token: string }>("POST", "/api/users/register/", body);
        setBusy(false);
        if (!res.ok) { setError(res.error); return; }
        await signIn(res.data.token);
        navigate("/");
      }}>
        <Field id="username" label="Username" value={v.username} set={set("username")} error={error} auto="username" />
        <Field id="email" label="Email" type="email" value={v.email} set={set("email")} error={error} auto="email" />
        <Field id="password" label="Password (at least 8 characters)" type="password" value={v.password} set={set("password")} error={error} auto="new-password" />
        <Field id="first_name" label="First name (optional)" value={v.first_name} set={set("first_name")} error={error} auto="given-name" />
        <Field id="last_name" label="Last name (optional)" value={v.last_name} set={set("last_name")} error={error} auto="family-name" />
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>{busy ? "Creating the account…" : "Register"}</button>
      </form>
      <p>Have an account? <a href="/login">Log in</a>.</p>
    </section>
  );
}
