import { render } from "preact";
import { lazy, Suspense } from "preact/compat";
import { useEffect } from "preact/hooks";
import "./style.css";
import { interceptLinks, navigate, useLocation } from "./router";
import { loadMe, signOut, useSession } from "./store";
import { Loading } from "./ui";
import { Board } from "./pages/Board";
import { Thread } from "./pages/Thread";
import { Compose } from "./pages/Compose";
import { Login, Register } from "./pages/Auth";
import { Notifications } from "./pages/Notifications";
import { Profile } from "./pages/Profile";

// Admin pages (and the chart library) load only when an admin opens them.
const Admin = lazy(() => import("./pages/Admin"));

function Nav() {
  const s = useSession();
  return (
    <header class="top">
      <a class="skip" href="#main">Skip to content</a>
      <nav aria-label="Main">
        <a class="brand" href="/">Imageboard</a>
        <a href="/">Board</a>
        {s.me && <a href="/compose">New post</a>}
        {s.me && (
          <a href="/notifications" aria-label={`Notifications, ${s.unread} unread`}>
            Notifications{" "}
            <span class="badge" data-testid="unread-badge" data-live={s.live} hidden={s.unread === 0}>{s.unread}</span>
          </a>
        )}
        {s.me?.is_admin && <a href="/admin">Admin</a>}
        <span class="spacer" />
        {s.me ? (
          <>
            <a href="/profile">{s.me.username}</a>
            <button type="button" class="linklike" onClick={async () => { await signOut(); navigate("/"); }}>Log out</button>
          </>
        ) : (
          <>
            <a href="/login">Log in</a>
            <a href="/register">Register</a>
          </>
        )}
      </nav>
    </header>
  );
}

function Routes() {
  const loc = useLocation();
  const path = loc.split("?")[0].replace(/\/+$/, "") || "/";
  const query = new URLSearchParams(loc.split("?")[1] || "");
  let m: RegExpMatchArray | null;
  if (path === "/") return <Board query={query} />;
  if ((m = path.match(/^\/posts\/(\d+)$/))) return <Thread id={Number(m[1])} />;
  if (path === "/compose") return <Compose />;
  if (path === "/login") return <Login next={query.get("next") || "/"} />;
  if (path === "/register") return <Register />;
  if (path === "/notifications") return <Notifications />;
  if (path === "/profile") return <Profile />;
  if (path.startsWith("/admin")) return <Suspense fallback={<Loading />}><Admin path={path} query={query} /></Suspense>;
  return <section><h1>Not found</h1><p>No page at {path}. <a href="/">Back to the board</a>.</p></section>;
}

function App() {
  useEffect(() => { loadMe(); }, []);
  return (
    <>
      <Nav />
      <main id="main"><Routes /></main>
      <footer class="foot"><a href="/api/docs/">API documentation</a></footer>
    </>
  );
}

interceptLinks();
const root = document.getElementById("app")!;
root.textContent = "";  // the static "Loading…" of index.html
render(<App />, root);
