/** What a VM's agent channel assignment says: its transport and, for vsock, its guest CID. */
export type ChannelAssignment = { readonly transport: 'vsock'; readonly cid: number } | { readonly transport: 'virtio-serial' };
