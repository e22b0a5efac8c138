import { useEffect, useState } from 'preact/hooks';
import { getJson, request } from './api.js';
import { base64Bytes, hex } from './format.js';

/** Digest lengths a TEE reports (SHA-256, SHA-384, SHA-512 and 64-byte report data). */
const DIGEST_BYTES = new Set([32, 48, 64]);

/** Every leaf of the policy JSON, with base64 digests shown as hex (how verifiers and vendors print them). */
function leaves(value: unknown, path: string, out: { path: string; text: string; digest: boolean }[]): void {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  else if (typeof value === 'string' && /^[A-Za-z0-9+/]{40,}={0,2}$/.test(value) && DIGEST_BYTES.has(base64Bytes(value).length)) {
    out.push({ path, text: hex(base64Bytes(value)), digest: true });
  } else out.push({ path, text: String(value), digest: false });
}

async function save(id: string, format: 'corim' | 'json') {
  const res = await request('GET', `/vms/${encodeURIComponent(id)}/attestation-policy?format=${format}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${id}-attestation-policy.${format === 'corim' ? 'cbor' : 'json'}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The VM's attestation policy: downloads (CoRIM, JSON) and the reference values, decoded. */
export function PolicyView({ id, backend }: { id: string; backend: string }) {
  const [rows, setRows] = useState<{ path: string; text: string; digest: boolean }[] | null>(null);
  const [error, setError] = useState('');
  const none = backend === 'plain';
  useEffect(() => {
    if (none) return;
    getJson<unknown>(`/vms/${encodeURIComponent(id)}/attestation-policy?format=json`)
      .then((json) => {
        const out: { path: string; text: string; digest: boolean }[] = [];
        leaves(json, '', out);
        setRows(out);
      })
      .catch((err: unknown) => setError((err as Error).message));
  }, [id, none]);
  return (
    <section class="card" aria-labelledby="policy-title" data-testid="policy">
      <h2 id="policy-title">Attestation policy</h2>
      {none ? (
        <p>Plain VMs are not confidential: they have no attestation policy.</p>
      ) : (
        <>
          <div class="row">
            <button type="button" onClick={() => void save(id, 'corim').catch((err: unknown) => setError((err as Error).message))}>
              Download CoRIM
            </button>
            <button type="button" onClick={() => void save(id, 'json').catch((err: unknown) => setError((err as Error).message))}>
              Download JSON
            </button>
          </div>
          {error ? <p class="error">{error}</p> : null}
          {rows ? (
            <table class="policy">
              <thead>
                <tr>
                  <th scope="col">Reference value</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.path}>
                    <td>{r.path}</td>
                    <td class={r.digest ? 'digest' : undefined}>{r.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </section>
  );
}
