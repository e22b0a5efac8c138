import type { ManagerPlugin } from '@cocos-manager/core';
import { plainBackendPlugin } from '@cocos-manager/backend-plain';
import { sevBackendPlugin } from '@cocos-manager/backend-sev';
import { sevSnpBackendPlugin } from '@cocos-manager/backend-sev-snp';
import { tdxBackendPlugin } from '@cocos-manager/backend-tdx';
import { storageDiskPlugin } from '@cocos-manager/storage-disk';
import { deviceGpuPlugin } from '@cocos-manager/device-gpu';
import { agentChannelPlugin } from '@cocos-manager/agent-channel';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';
import { httpTransportPlugin } from '@cocos-manager/transport-http';
import { cmClientPlugin } from '@cocos-manager/transport-cm-client';
import { webConsolePlugin } from '@cocos-manager/web-console';
// The plugin alone: the measurement engine is loaded at the first measurement.
import { measurePlugin } from '@cocos-manager/measure/plugin';

/**
 * The plugins of the default `cocos-manager` build. A custom build is another
 * list like this one.
 */
export const defaultPlugins: readonly ManagerPlugin[] = [
  measurePlugin,
  plainBackendPlugin,
  sevSnpBackendPlugin,
  sevBackendPlugin,
  tdxBackendPlugin,
  storageDiskPlugin,
  deviceGpuPlugin,
  agentChannelPlugin,
  grpcTransportPlugin,
  httpTransportPlugin,
  cmClientPlugin,
  webConsolePlugin,
];
