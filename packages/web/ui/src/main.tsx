// The Batuta UI: who is logged in decides between the login page and the app; the path picks the page.
import './styles.css';
import './operator.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, logout, type Me, me, rememberCsrf, whenUnauthenticated } from './api.js';
import { LiveIndicator } from './components/live-indicator.js';
import { ThemeToggle } from './components/theme-toggle.js';
import { DagList } from './pages/dag-list.js';
import { DagPage } from './pages/dag-page.js';
import { GraphPage } from './pages/graph-page.js';
import { LoginPage } from './pages/login.js';
import { PoolsPage } from './pages/pools-page.js';
import { RunPage } from './pages/run-page.js';
import { TaskPage } from './pages/task-page.js';
import { Link, navigate, usePath } from './router.js';
import { applyTheme, savedTheme } from './theme.js';

applyTheme(savedTheme());

function App() {
  const [user, setUser] = useState<Me | null | undefined>(undefined);
  const [problem, setProblem] = useState<string>();
  const path = usePath();

  useEffect(() => {
    whenUnauthenticated(() => setUser(null));
    me()
      .then((who) => {
        rememberCsrf(who.csrfToken);
        setUser(who);
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) setUser(null);
        else setProblem(error instanceof Error ? error.message : String(error));
      });
  }, []);

  if (problem) return <p role="alert">The API did not answer: {problem}</p>;
  if (user === undefined) return <p aria-busy="true">Loading…</p>;
  if (user === null) {
    return (
      <LoginPage
        onLogin={(who) => {
          rememberCsrf(who.csrfToken);
          setUser(who);
          if (path === '/login') navigate('/');
        }}
      />
    );
  }

  const signOut = async () => {
    await logout().catch(() => undefined);
    rememberCsrf(undefined);
    setUser(null);
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <nav aria-label="Main">
          <Link href="/" class="brand">
            Batuta
          </Link>
          <Link href="/">DAGs</Link>
          <Link href="/pools">Pools</Link>
        </nav>
        <div class="who">
          <LiveIndicator />
          <ThemeToggle />
          <span>
            {user.name} <span class="role">({user.role})</span>
          </span>
          {user.kind === 'user' && (
            <button type="button" onClick={signOut}>
              Log out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} user={user} />
      </main>
    </>
  );
}

function Page({ path, user }: { path: string; user: Me }) {
  const dag = /^\/dags\/([^/]+)\/?$/.exec(path);
  if (dag) return <DagPage dagId={decodeURIComponent(dag[1]!)} user={user} />;
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (run) return <RunPage runId={decodeURIComponent(run[1]!)} user={user} />;
  const dagGraph = /^\/dags\/([^/]+)\/graph\/?$/.exec(path);
  if (dagGraph) return <GraphPage dagId={decodeURIComponent(dagGraph[1]!)} user={user} />;
  const runGraph = /^\/runs\/([^/]+)\/graph\/?$/.exec(path);
  if (runGraph) return <GraphPage runId={decodeURIComponent(runGraph[1]!)} user={user} />;
  const task = /^\/runs\/([^/]+)\/tasks\/([^/]+)(?:\/(\d+))?\/?$/.exec(path);
  if (task) {
    const [runId, taskId] = [decodeURIComponent(task[1]!), decodeURIComponent(task[2]!)];
    const mapIndex = task[3] === undefined ? -1 : Number(task[3]);
    return <TaskPage runId={runId} taskId={taskId} mapIndex={mapIndex} user={user} />;
  }
  if (path === '/pools') return <PoolsPage user={user} />;
  if (path === '/' || path === '/login') return <DagList user={user} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at {path}. <Link href="/">Back to the DAGs</Link>
      </p>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
