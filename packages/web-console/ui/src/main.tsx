import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, getJson, setToken, type Session } from './api.js';
import { Charts } from './charts.js';
import { CreateForm } from './create-form.js';
import { Overview } from './overview.js';
import { VmPage } from './vm-page.js';

function useRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

function TokenForm({ message, onDone }: { message: string; onDone: () => void }) {
  const [token, setValue] = useState('');
  return (
    <form
      class="card login"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(token.trim());
        onDone();
      }}
    >
      <h2>Sign in</h2>
      <p>{message}</p>
      <label for="token">Bearer token</label>
      <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit">Use token</button>
      <p class="hint">With mTLS, the browser's client certificate identifies you and no token is needed.</p>
    </form>
  );
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    getJson<Session>('/session')
      .then((s) => {
        setSession(s);
        setProblem(null);
      })
      .catch((err: unknown) => setProblem(err instanceof ApiError ? err.message : String(err)));
  }, [attempt]);

  const link = (to: string, label: string) => (
    <a href={`#${to}`} aria-current={route === to ? 'page' : undefined}>
      {label}
    </a>
  );
  let page;
  if (!session) page = problem === null ? <p>Loading…</p> : <TokenForm message={problem} onDone={() => setAttempt((a) => a + 1)} />;
  else if (route.startsWith('/vm/')) page = <VmPage id={decodeURIComponent(route.slice(4))} session={session} />;
  else if (route === '/create') page = session.can_write ? <CreateForm /> : <p>Creating VMs needs the admin role and MANAGER_HTTP_REST_WRITES=true.</p>;
  else if (route === '/charts') page = <Charts />;
  else page = <Overview session={session} />;
  return (
    <>
      <header>
        <span class="brand">cocos-manager</span>
        <nav aria-label="main">
          {link('/', 'Overview')}
          {session?.can_write ? link('/create', 'Create VM') : null}
          {link('/charts', 'Charts')}
        </nav>
        {session ? (
          <span class="who" data-testid="role">
            {session.identity} · {session.role}
          </span>
        ) : null}
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
