import { useEffect, useState } from 'preact/hooks';
import { getJson, quietAbort, streamEvents, type AgentMessage } from './api.js';

/** Messages shown at most (the manager keeps 200 per VM). */
const MAX_SHOWN = 200;

const same = (a: AgentMessage, b: AgentMessage) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What the VM's agent said over its agent channel: the manager's history of
 * it, then the live messages (`event: agent` of /events). Everything here is
 * the guest's text: rendered as text, never as markup.
 */
export function AgentMessages({ id }: { id: string }) {
  const [messages, setMessages] = useState<readonly AgentMessage[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    let alive = true;
    const live: AgentMessage[] = [];
    let history: AgentMessage[] | null = null;
    const show = () => {
      if (!alive || history === null) return;
      const known = history;
      // The stream was opened first: a message in both shows once.
      const fresh = live.filter((m) => !known.some((h) => same(h, m)));
      setMessages([...known, ...fresh].slice(-MAX_SHOWN));
    };
    const controller = new AbortController();
    streamEvents(`/events?vm=${encodeURIComponent(id)}&console=0`, controller.signal, (event) => {
      if (event.kind !== 'log' && event.kind !== 'event') return;
      live.push(event);
      if (live.length > MAX_SHOWN) live.shift();
      show();
    }).catch(quietAbort);
    getJson<{ messages: AgentMessage[] }>(`/vms/${encodeURIComponent(id)}/agent`)
      .then((body) => {
        history = body.messages;
        show();
      })
      .catch((err: unknown) => alive && setError((err as Error).message));
    return () => {
      alive = false;
      controller.abort();
    };
  }, [id]);
  return (
    <section class="card" aria-labelledby="agent-title">
      <h2 id="agent-title">Agent</h2>
      {error ? <p class="error">{error}</p> : null}
      {messages.length === 0 ? <p class="hint">Nothing from the agent yet (MANAGER_AGENT_CHANNEL off, or the agent has not spoken).</p> : null}
      <ol class="timeline" data-testid="agent-messages">
        {messages.map((m, i) => (
          <li key={i} data-kind={m.kind}>
            <time>{new Date(m.at).toLocaleTimeString()}</time>{' '}
            {m.kind === 'log' ? (
              <>
                <span class="state">{m.level || 'log'}</span> {m.message}
              </>
            ) : (
              <>
                <span class="state">{m.eventType}</span> {m.status}
                {m.originator ? ` (${m.originator})` : ''}
                {m.details ? <code> {m.details}</code> : null}
              </>
            )}
            {m.computationId ? <span class="hint"> · computation {m.computationId}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
