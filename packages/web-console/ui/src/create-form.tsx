import { useState } from 'preact/hooks';
import { ApiError, request } from './api.js';
import { ttlProblem } from './format.js';

/** CreateReq's text fields, by wire name, as the form shows them. */
const TEXT: { name: string; label: string; hint?: string; secret?: boolean }[] = [
  { name: 'agent_cvm_server_url', label: 'CVM server URL', hint: 'host:port of the computation management server' },
  { name: 'agent_cvm_ca_url', label: 'CVM CA URL' },
  { name: 'agent_log_level', label: 'Agent log level', hint: 'debug, info, warn or error' },
  { name: 'ttl', label: 'TTL', hint: 'Go duration: 90s, 45m, 1h30m (empty: no limit)' },
  { name: 'agent_certs_token', label: 'Certificates token', secret: true },
  { name: 'aws_access_key_id', label: 'AWS access key id' },
  { name: 'aws_secret_access_key', label: 'AWS secret access key', secret: true },
  { name: 'aws_endpoint_url', label: 'AWS endpoint URL' },
  { name: 'aws_region', label: 'AWS region' },
  { name: 'aa_kbs_params', label: 'KBS parameters', hint: 'e.g. cc_kbc::http://kbs:8080' },
];
const FILES: { name: string; label: string }[] = [
  { name: 'agent_cvm_server_ca_cert', label: 'Server CA certificate (PEM)' },
  { name: 'agent_cvm_client_cert', label: 'Client certificate (PEM)' },
  { name: 'agent_cvm_client_key', label: 'Client key (PEM)' },
];

async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let raw = '';
  for (let i = 0; i < bytes.length; i += 0x8000) raw += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(raw);
}

/** The form field a failure is about: the one the manager names (`error.field`), when the form has it. */
function fieldOf(err: ApiError): string | null {
  return [...TEXT, ...FILES].some((f) => f.name === err.field) ? err.field : null;
}

export function CreateForm() {
  const [values, setValues] = useState<Record<string, string>>({});
  const [files, setFiles] = useState<Record<string, File | undefined>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState('');
  const [busy, setBusy] = useState(false);
  const ttlError = ttlProblem(values['ttl'] ?? '');

  async function submit(e: Event) {
    e.preventDefault();
    if (ttlError) return;
    setBusy(true);
    setErrors({});
    setGeneral('');
    try {
      const body: Record<string, string> = {};
      for (const f of TEXT) if (values[f.name]) body[f.name] = values[f.name]!;
      for (const f of FILES) {
        const file = files[f.name];
        if (file) body[f.name] = await base64Of(file);
      }
      const res = await request('POST', '/vms', body);
      const created = (await res.json()) as { cvm_id: string };
      location.hash = `#/vm/${encodeURIComponent(created.cvm_id)}`;
    } catch (err) {
      const message = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
      const field = err instanceof ApiError ? fieldOf(err) : null;
      if (field) setErrors({ [field]: message });
      else setGeneral(message);
      setBusy(false);
    }
  }

  const error = (name: string) => (name === 'ttl' && ttlError ? `TTL: ${ttlError}` : errors[name]);
  return (
    <>
      <h1>Create a VM</h1>
      <form class="card create" onSubmit={(e) => void submit(e)} noValidate>
        {TEXT.map((f) => (
          <div class="field" key={f.name}>
            <label for={f.name}>{f.label}</label>
            <input
              id={f.name}
              name={f.name}
              type={(f.secret ? 'password' : 'text') as 'text'}
              autocomplete="off"
              value={values[f.name] ?? ''}
              aria-invalid={error(f.name) ? true : undefined}
              aria-describedby={`${f.name}-help`}
              onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            />
            <small id={`${f.name}-help`} class={error(f.name) ? 'error' : 'hint'} data-testid={`error-${f.name}`}>
              {error(f.name) ?? f.hint ?? ''}
            </small>
          </div>
        ))}
        {FILES.map((f) => (
          <div class="field" key={f.name}>
            <label for={f.name}>{f.label}</label>
            <input
              id={f.name}
              name={f.name}
              type="file"
              accept=".pem,.crt,.key,text/plain"
              aria-describedby={`${f.name}-help`}
              onChange={(e) => setFiles({ ...files, [f.name]: e.currentTarget.files?.[0] })}
            />
            <small id={`${f.name}-help`} class={errors[f.name] ? 'error' : 'hint'}>
              {errors[f.name] ?? ''}
            </small>
          </div>
        ))}
        {general ? (
          <p class="error" role="alert" data-testid="create-error">
            {general}
          </p>
        ) : null}
        <button type="submit" disabled={busy || ttlError !== null}>
          {busy ? 'Creating… (the VM boots)' : 'Create VM'}
        </button>
      </form>
    </>
  );
}
