/**
 * The one error catalogue: every failure the manager reports, by a stable
 * UPPER_SNAKE_CASE code, with its gRPC status, its HTTP status, a message
 * safe to show any client and what it means (Fastify's lib/errors.js is the
 * model). Clients branch on the code — on gRPC the trailing metadata
 * `cocos-error-code` and the start of the status details, on HTTP the
 * `error.reason` of the JSON body — never on the rest of the text.
 * docs/errors.md is generated from this table (`npm run docs`). gRPC statuses
 * are the bare numbers of the gRPC spec (doc/statuscodes.md), so core needs
 * no gRPC library.
 */

import { call, ErrorCode, logged, startUp, type ErrorCatalogueEntry } from './entry-kinds.js';

export { ErrorCode, type ErrorCatalogueEntry, type ErrorScope, type WireTransport } from './entry-kinds.js';

const E = ErrorCode;

export const ERROR_CATALOGUE = {
  // A request the manager will not take as it is.
  REQUEST_FIELD_INVALID: call(
    E.InvalidArgument,
    400,
    'the request is invalid',
    'A CreateReq field or a VM id fails its check (length, characters, PEM size); the message names the field and what is accepted.',
  ),
  TTL_INVALID: call(E.InvalidArgument, 400, 'the ttl is invalid', 'The ttl is not a positive Go duration of at most 8784h.'),
  POLICY_FORMAT_UNKNOWN: call(
    E.InvalidArgument,
    400,
    'unknown attestation policy format',
    'The attestation policy format asked for (`cocos-policy-format` metadata, `?format=`) is not corim or json.',
  ),
  REQUEST_BODY_INVALID: call(
    E.InvalidArgument,
    400,
    'the request body is invalid',
    'The REST body is not a JSON object of CreateReq fields of the right types.',
    ['http'],
  ),
  PAGE_TOKEN_INVALID: call(
    E.InvalidArgument,
    400,
    'the page token is invalid',
    'A ListVms page_token (REST: ?page_token=) that is not a next_page_token this manager answered.',
  ),
  REQUEST_TOO_LARGE: call(E.InvalidArgument, 413, 'the request body is too large', 'The REST body is larger than the largest valid create.', ['http']),
  UNSUPPORTED_MEDIA_TYPE: call(
    E.InvalidArgument,
    415,
    'the request body has an unsupported content type',
    'A REST write without Content-Type: application/json.',
    ['http'],
  ),
  VM_NOT_FOUND: call(E.NotFound, 404, 'no such VM', 'No VM has this id (it was removed, or never existed).'),
  ROUTE_NOT_FOUND: call(E.NotFound, 404, 'not found', 'No HTTP route has this method and path (REST writes are off unless MANAGER_HTTP_REST_WRITES=true).', [
    'http',
  ]),
  // Limits: 429 when a caller can wait for a removal, 503/507 when the host itself is short.
  VM_CAPACITY_REACHED: call(E.ResourceExhausted, 429, 'the manager runs as many VMs as it may', 'MANAGER_MAX_VMS VMs exist; remove one first.'),
  PORTS_EXHAUSTED: call(E.ResourceExhausted, 503, 'no free host port for a VM', 'Every port of MANAGER_QEMU_HOST_FWD_RANGE is taken or busy on the host.'),
  DEVICE_POOL_EXHAUSTED: call(
    E.ResourceExhausted,
    429,
    'no free device for the VM',
    'A VM device plugin (a passthrough device…) has every device of its pool given to a VM; remove one first.',
  ),
  STATE_DISK_FULL: call(
    E.ResourceExhausted,
    507,
    'the state disk is full',
    "The VM's state record could not be written: MANAGER_STATE_DIR's disk is full. The create is rolled back.",
  ),
  STREAM_LIMIT_REACHED: call(
    E.ResourceExhausted,
    503,
    'too many streams are open',
    'As many event and console streams are open as MANAGER_GRPC_MAX_STREAMS / MANAGER_HTTP_MAX_STREAMS allow; retry later.',
  ),
  STREAM_READER_TOO_SLOW: logged(
    E.ResourceExhausted,
    'this stream client read too slowly',
    'A WatchEvents, /events or console reader fell further behind than the stream backlog allows and was cut off (counted in manager_stream_clients_dropped_total); its HTTP/2 stream is reset, so the client sees no status.',
  ),
  CALL_METADATA_TOO_LARGE: call(
    E.ResourceExhausted,
    431,
    'the call metadata is too large',
    "A gRPC call's metadata is larger than MANAGER_GRPC_SERVER_MAX_HEADER_BYTES.",
    ['grpc'],
  ),
  // The host, the backend or the VM cannot do this now.
  ATTESTATION_UNAVAILABLE: call(E.FailedPrecondition, 412, 'this VM has no attestation', 'The VM runs on a backend without a TEE (no measurement to verify).'),
  REFERENCE_VALUES_INVALID: call(
    E.FailedPrecondition,
    412,
    'the reference values are not usable',
    'A reference values file (MANAGER_PCR_VALUES…) cannot be read or parsed.',
  ),
  LAUNCH_MEASUREMENT_FAILED: call(
    E.FailedPrecondition,
    412,
    'the launch measurement cannot be computed',
    'The firmware, IGVM or kernel files of the VM cannot be measured (unreadable, not measurable); the message says which.',
  ),
  POLICY_WITHOUT_MEASUREMENTS: call(
    E.FailedPrecondition,
    412,
    'the policy has no usable reference measurements',
    'A CoRIM needs reference measurements of a known digest size; configure them, or ask for the JSON policy.',
  ),
  VM_PREPARE_FAILED: call(
    E.FailedPrecondition,
    412,
    'the VM could not be prepared',
    "A step before QEMU starts (the boot strategy's disk copy, a device) failed; nothing of the VM is left.",
  ),
  VM_READOPTING: call(E.FailedPrecondition, 412, 'the VM is being re-adopted', 'The manager restarted and is re-adopting its VMs; retry in a moment.'),
  VM_NOT_READOPTED: call(
    E.FailedPrecondition,
    412,
    'the VM was not re-adopted',
    'After a restart this VM could not be re-adopted (its QEMU was gone or not ours); it is failed.',
  ),
  CALL_DEADLINE_EXCEEDED: call(
    E.DeadlineExceeded,
    504,
    'the request took too long',
    'The call took longer than MANAGER_GRPC_TIMEOUT; it may still complete (check ListVms).',
    ['grpc'],
  ),
  CREDENTIALS_REQUIRED: call(
    E.Unauthenticated,
    401,
    'authentication required',
    'Authentication is on and the call carries no known bearer token or client certificate.',
  ),
  ROLE_INSUFFICIENT: call(E.PermissionDenied, 403, 'permission denied', "The caller's role (reader) may not do this (create and remove need admin)."),
  ORIGIN_NOT_ALLOWED: call(
    E.PermissionDenied,
    403,
    'this browser origin is not allowed',
    'A browser request from an origin not in MANAGER_HTTP_ALLOWED_ORIGINS.',
    ['http'],
  ),
  HOST_NOT_ALLOWED: call(
    E.PermissionDenied,
    403,
    'this Host is not served',
    'The Host header names no host of this manager (a DNS-rebinding defence; MANAGER_HTTP_ALLOWED_HOSTS adds names).',
    ['http'],
  ),
  // Failures of the manager or of QEMU.
  INTERNAL_ERROR: call(E.Internal, 500, 'internal error', "An unforeseen failure; the manager's log has the real error."),
  QEMU_EXITED_AT_START: call(
    E.Internal,
    500,
    'QEMU exited during start-up',
    "QEMU ended before it answered on QMP (bad argv, missing firmware…); its last output is in the manager's log.",
  ),
  QEMU_START_TIMEOUT: call(E.Internal, 500, 'QEMU did not start in time', 'QEMU did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT.'),
  VM_CREATE_FAILED: call(E.Internal, 500, 'creating the VM failed', 'A step of the create failed unexpectedly; it was rolled back and the log has the cause.'),
  STATE_WRITE_FAILED: call(
    E.Internal,
    500,
    'the VM state could not be saved',
    "The VM's state record could not be written (an I/O error other than a full disk); the create is rolled back.",
  ),
  // Start-up: printed as one line (`cocos-manager: CODE: …`) before the manager serves.
  CONFIG_INVALID: startUp(
    E.FailedPrecondition,
    'the configuration is invalid',
    'An environment variable has a value its setting refuses, or two settings conflict; the line names the variable and what is expected.',
  ),
  PLUGIN_INVALID: startUp(
    E.FailedPrecondition,
    'a plugin is invalid',
    'A plugin is malformed, registers something it did not declare, or collides with another.',
  ),
  BACKEND_UNAVAILABLE: startUp(
    E.FailedPrecondition,
    'no TEE backend can run',
    'The chosen TEE backend (or every one, for auto-detection) cannot run on this host; the line says why.',
  ),
  STATE_DIR_UNSAFE: startUp(
    E.FailedPrecondition,
    'the state or run directory is unsafe',
    "MANAGER_STATE_DIR or MANAGER_RUN_DIR is a symlink, someone else's, or open to others.",
  ),
  STATE_LOCKED: startUp(
    E.FailedPrecondition,
    'another manager holds the state directory',
    'Another manager (named by pid) serves from this MANAGER_STATE_DIR.',
  ),
  QEMU_ARGUMENT_INVALID: startUp(
    E.Internal,
    'a QEMU argument is invalid',
    'A QEMU command element was given a value it cannot render (an id, a property); a plugin or setting at fault.',
  ),
  QMP_COMMAND_FAILED: startUp(E.Internal, 'a QMP command failed', 'QEMU answered a QMP command with an error.'),
  DISK_IMAGE_FAILED: startUp(E.Internal, 'qemu-img failed', 'qemu-img could not read or copy a disk image.'),
  MEASUREMENT_INPUT_INVALID: startUp(
    E.FailedPrecondition,
    'a measurement input is invalid',
    'A file or option given to the measurement tools cannot be measured (`cocos-manager measure`).',
  ),
  TRANSPORT_LISTEN_FAILED: startUp(
    E.FailedPrecondition,
    'a transport cannot listen',
    'A transport cannot listen on its host and port (in use, not an address of this host).',
  ),
  STATE_RECORD_INVALID: startUp(
    E.FailedPrecondition,
    'a state record is invalid',
    'A file under MANAGER_STATE_DIR is not a valid VM record (it is quarantined, not loaded).',
    'log',
  ),
  // Only in the log: what the manager handles itself, or reports under another code.
  BACKEND_NOT_ACTIVE: logged(E.Internal, 'no TEE backend is active', 'A VM call reached the manager before it chose its backend (a bug).'),
  QEMU_SPAWN_FAILED: logged(
    E.Internal,
    'QEMU could not be started',
    'QEMU (or `sudo -n` for it) could not be spawned; the create fails with VM_PREPARE_FAILED ("starting QEMU failed").',
  ),
  QEMU_SIGNAL_FAILED: logged(E.Internal, 'QEMU could not be signalled', 'A signal to a root QEMU through `sudo -n kill` failed; the stop ladder goes on.'),
  GUEST_FRAME_REJECTED: logged(E.InvalidArgument, 'a guest frame was refused', 'A guest frame was malformed, oversized or over a rate: dropped, counted.'),
  AGENT_CHANNEL_UNREACHABLE: logged(
    E.DeadlineExceeded,
    'the agent of a VM could not be reached',
    "A manifest could not be handed to a VM's agent over its agent channel in time (the agent is not listening); the run is reported failed to Computation Management.",
  ),
  DEVICE_RELEASE_FAILED: logged(
    E.Internal,
    'a device could not be released',
    "A VM device's host resource was not released at teardown; the teardown retries.",
  ),
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** A stable error code: one entry of the catalogue. */
export type ErrorKind = keyof typeof ERROR_CATALOGUE;

export function catalogueEntry(kind: ErrorKind): ErrorCatalogueEntry {
  return ERROR_CATALOGUE[kind];
}
