import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { getText, quietAbort, streamLines } from './api.js';

/**
 * A VM's serial console in xterm.js (ANSI colours, scrollback): the log so far
 * and then the live lines (`?follow=1`, which ends when the VM stops). Pause
 * holds new lines back; follow keeps the view at the bottom.
 */
export function SerialConsole({ id }: { id: string }) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const held = useRef<string[]>([]);
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [ended, setEnded] = useState(false);
  const pausedRef = useRef(paused);
  const followRef = useRef(follow);
  pausedRef.current = paused;
  followRef.current = follow;

  useEffect(() => {
    const t = new Terminal({ convertEol: true, scrollback: 5000, disableStdin: true, fontSize: 13, rows: 24, theme: { background: '#10141a' } });
    const fit = new FitAddon();
    t.loadAddon(fit);
    t.open(host.current!);
    fit.fit();
    term.current = t;
    // Nothing reaches the terminal once the component is gone (`alive`).
    let alive = true;
    const onResize = () => alive && fit.fit();
    addEventListener('resize', onResize);
    const controller = new AbortController();
    streamLines(`/vms/${encodeURIComponent(id)}/console?follow=1`, controller.signal, (line) => {
      if (!alive) return;
      if (pausedRef.current) held.current.push(line);
      else write(t, line);
    })
      .then(() => alive && setEnded(true))
      .catch(quietAbort);
    return () => {
      alive = false;
      controller.abort();
      removeEventListener('resize', onResize);
      term.current = null;
      // xterm.js's viewport syncs in an animation frame and throws if the terminal was disposed meanwhile:
      // let the queued writes finish and two frames pass first.
      t.write('', () => requestAnimationFrame(() => requestAnimationFrame(() => t.dispose())));
    };
  }, [id]);

  function write(t: Terminal, line: string) {
    t.write(`${line}\n`, () => {
      if (followRef.current && term.current === t) t.scrollToBottom();
    });
  }

  function togglePause() {
    if (paused && term.current) {
      for (const line of held.current) write(term.current, line);
      held.current = [];
    }
    setPaused(!paused);
  }

  async function download() {
    const text = await getText(`/vms/${encodeURIComponent(id)}/console`);
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${id}-console.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  return (
    <section class="card" aria-labelledby="console-title">
      <div class="row">
        <h2 id="console-title">Serial console</h2>
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? `Resume (${held.current.length} held)` : 'Pause'}
        </button>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <button type="button" onClick={() => download().catch((err: unknown) => console.warn('console download failed:', err))}>
          Download
        </button>
        {ended ? <span class="hint">the VM stopped; the console ended</span> : null}
      </div>
      <div class="terminal" ref={host} data-testid="console" role="log" aria-label="serial console output" />
    </section>
  );
}
