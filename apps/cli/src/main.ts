#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { POLICY_FORMAT_METADATA, type VmStreamEvent } from '@cocos-manager/contract';
import { CliError, ManagerClient, type ConnectionOptions } from './client.js';
import { fields, table } from './output.js';
import { checkToken, readTokenFile } from './token.js';
import { waitForAgent } from './wait-for-agent.js';

const VERSION = '0.1.0';

interface GlobalOptions {
  serverUrl: string;
  ca?: string;
  cert?: string;
  key?: string;
  json?: boolean;
  timeout: string;
  token?: string;
  tokenFile?: string;
}

function fail(err: unknown): never {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  process.stderr.write(`cocos-manager-cli: ${message}\n`);
  process.exit(1);
}

const program = new Command('cocos-manager-cli')
  .description('Operate a cocos-manager over gRPC.')
  .version(VERSION)
  .addOption(new Option('--server-url <host:port>', 'the manager gRPC address').env('MANAGER_GRPC_URL').default('localhost:7001'))
  .option('--ca <file>', 'PEM CA that signed the manager certificate (enables TLS)')
  .option('--cert <file>', 'PEM client certificate (mTLS)')
  .option('--key <file>', 'PEM client key (mTLS)')
  .addOption(new Option('--token <token>', 'bearer token of the manager (sent as authorization: Bearer)').env('COCOS_MANAGER_TOKEN'))
  .option('--token-file <file>', 'file holding the bearer token on its first line (mode 0600 or 0400)')
  .option('--json', 'machine-readable output')
  .option('--timeout <seconds>', 'how long one call may take', '30')
  .showHelpAfterError(false);

type Resolved = Omit<GlobalOptions, 'timeout' | 'token'> & ConnectionOptions;

function globals(): Resolved {
  const o = program.opts<GlobalOptions>();
  const timeout = Number(o.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new CliError(`--timeout ${o.timeout}: expected a number of seconds`);
  return { ...o, timeout, ...token(o) };
}

/** --token-file, else --token, else COCOS_MANAGER_TOKEN; a file and a --token flag together are ambiguous. */
function token(o: GlobalOptions): { token?: string } {
  const fromFlag = program.getOptionValueSource('token') === 'cli';
  if (o.tokenFile !== undefined) {
    if (fromFlag) throw new CliError('--token and --token-file: give one of them');
    return { token: readTokenFile(o.tokenFile) };
  }
  // An empty COCOS_MANAGER_TOKEN is no token (as an unset one).
  if (o.token !== undefined && (fromFlag || o.token !== '')) return { token: checkToken(o.token, fromFlag ? '--token' : 'COCOS_MANAGER_TOKEN') };
  return {};
}

/** Runs a command with a connected client; every failure is one line and exit status 1. */
function action<A extends unknown[]>(run: (client: ManagerClient, o: Resolved, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    let client: ManagerClient | undefined;
    try {
      const o = globals();
      client = new ManagerClient(o);
      await run(client, o, ...args);
      client.close();
    } catch (err) {
      client?.close();
      fail(err);
    }
  };
}

const print = (o: Pick<GlobalOptions, 'json'>, json: unknown, human: string) => process.stdout.write(`${o.json ? JSON.stringify(json, null, 2) : human}\n`);
const readPem = (file: string | undefined, flag: string): Buffer => {
  if (!file) return Buffer.alloc(0);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

program
  .command('create-vm')
  .description('create a VM; with --wait, return once its agent port answers')
  .option('--log-level <level>', 'agent log level')
  .option('--cvm-server-url <url>', 'computation server the agent connects to (agent_cvm_server_url)')
  .option('--cvm-ca-url <url>', 'CA service URL for the agent (agent_cvm_ca_url)')
  .option('--certs-token <token>', 'agent certificates token')
  .option('--client-cert <file>', 'PEM client certificate for the agent')
  .option('--client-key <file>', 'PEM client key for the agent')
  .option('--server-ca <file>', 'PEM CA of the computation server, for the agent')
  .option('--ttl <duration>', 'remove the VM after this long (Go duration: 90s, 1h30m)')
  .option('--aws-access-key-id <id>')
  .option('--aws-secret-access-key <key>')
  .option('--aws-endpoint-url <url>')
  .option('--aws-region <region>')
  .option('--kbs-params <params>', 'attestation agent KBC parameters (aa_kbs_params)')
  .option('--wait', 'wait until the guest agent answers on the forwarded port')
  .option('--wait-timeout <seconds>', 'how long --wait waits', '300')
  .action(
    action(async (client, o, opts: Record<string, string | boolean | undefined>) => {
      const text = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : '');
      const vm = await client.call('CreateVm', {
        agent_log_level: text('logLevel'),
        agent_cvm_server_url: text('cvmServerUrl'),
        agent_cvm_ca_url: text('cvmCaUrl'),
        agent_certs_token: text('certsToken'),
        agent_cvm_client_cert: readPem(text('clientCert'), '--client-cert'),
        agent_cvm_client_key: readPem(text('clientKey'), '--client-key'),
        agent_cvm_server_ca_cert: readPem(text('serverCa'), '--server-ca'),
        ttl: text('ttl'),
        aws_access_key_id: text('awsAccessKeyId'),
        aws_secret_access_key: text('awsSecretAccessKey'),
        aws_endpoint_url: text('awsEndpointUrl'),
        aws_region: text('awsRegion'),
        aa_kbs_params: text('kbsParams'),
      });
      let waited: number | null = null;
      if (opts['wait']) {
        const host = o.serverUrl.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') || 'localhost';
        waited = await waitForAgent(
          host,
          Number(vm.forwarded_port),
          Number(text('waitTimeout')) * 1000,
          `waiting for the agent of VM ${vm.cvm_id} on ${host}:${vm.forwarded_port}`,
        );
      }
      print(
        o,
        { ...vm, ...(waited !== null ? { agent_ready_after_seconds: +waited.toFixed(1) } : {}) },
        `VM ${vm.cvm_id} created, forwarded port ${vm.forwarded_port}${waited !== null ? `; agent answering after ${waited.toFixed(1)} s` : ''}`,
      );
    }),
  );

program
  .command('remove-vm <id>')
  .description('stop and remove a VM')
  .action(
    action(async (client, o, id: string) => {
      await client.call('RemoveVm', { cvm_id: id });
      print(o, { removed: id }, `VM ${id} removed`);
    }),
  );

program
  .command('list-vms')
  .description('list the VMs')
  .action(
    action(async (client, o) => {
      const { vms } = await client.call('ListVms', {});
      print(
        o,
        vms,
        vms.length === 0
          ? 'no VMs'
          : table(
              ['ID', 'STATE', 'PORT', 'PID', 'BACKEND', 'BOOT', 'CREATED', 'TTL DEADLINE'],
              vms.map((v) => [v.id, v.state, v.forwarded_port, v.pid ? String(v.pid) : '-', v.backend, v.boot, v.created_at, v.ttl_deadline || '-']),
            ),
      );
    }),
  );

program
  .command('vm <id>')
  .description('show one VM')
  .action(
    action(async (client, o, id: string) => {
      const vm = await client.call('GetVm', { id });
      print(o, vm, fields({ ...vm, exit: vm.exit ? `${vm.exit.reason}` : '-' }));
    }),
  );

program
  .command('cvm-info <id>')
  .description('CVM info of a VM (firmware, CPUs, kernel command line)')
  .action(
    action(async (client, o, id: string) => {
      const info = await client.call('CVMInfo', { id });
      print(o, info, fields(info));
    }),
  );

program
  .command('attestation-policy <id>')
  .description(
    "the attestation policy of a VM: a CoRIM (CBOR, signed when the manager has a key) or JSON; default: the manager's MANAGER_ATTESTATION_POLICY_FORMAT",
  )
  .option('--out <file>', 'write it to a file instead of standard output')
  .addOption(new Option('--format <format>', 'corim or json').choices(['corim', 'json']))
  .action(
    action(async (client, _o, id: string, opts: { out?: string; format?: string }) => {
      const { info } = await client.call('AttestationPolicy', { id }, opts.format ? { [POLICY_FORMAT_METADATA]: opts.format } : {});
      if (opts.out) writeFileSync(opts.out, info);
      else process.stdout.write(info);
    }),
  );

program
  .command('logs <id>')
  .description("a VM's console log; --follow streams it until the VM stops")
  .option('-f, --follow', 'keep printing new lines')
  .action(
    action(async (client, _o, id: string, opts: { follow?: boolean }) => {
      const stream = opts.follow ? client.watch({ vm_id: id, lifecycle_only: false }) : null;
      const { text } = await client.call('GetConsole', { id, max_bytes: 0 });
      process.stdout.write(text);
      if (!stream) return;
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (e: VmStreamEvent) => {
          if (e.kind === 'console') process.stdout.write(`${e.line}\n`);
          else if (e.state === 'stopped' || e.state === 'failed') {
            stream.cancel();
            resolve();
          }
        });
        stream.on('error', (err: Error & { code?: number }) => (err.code === 1 ? resolve() : reject(client.explain(err as never))));
        stream.on('end', resolve);
      });
    }),
  );

program
  .command('events')
  .description('follow lifecycle events (and console lines) until interrupted')
  .option('--vm <id>', 'only this VM')
  .option('--no-console', 'leave console lines out')
  .action(
    action(async (client, o, opts: { vm?: string; console: boolean }) => {
      const stream = client.watch({ vm_id: opts.vm ?? '', lifecycle_only: !opts.console });
      process.once('SIGINT', () => stream.cancel());
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (e: VmStreamEvent) => {
          const human = e.kind === 'console' ? `${e.at} ${e.vm_id} | ${e.line}` : `${e.at} ${e.vm_id} ${e.previous_state || '-'} -> ${e.state}: ${e.detail}`;
          process.stdout.write(`${o.json ? JSON.stringify(e) : human}\n`);
        });
        stream.on('error', (err: Error & { code?: number }) => (err.code === 1 ? resolve() : reject(client.explain(err as never))));
        stream.on('end', resolve);
      });
    }),
  );

program.parseAsync(process.argv).catch(fail);
