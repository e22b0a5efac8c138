/**
 * The Go manager's argv, element by element, for the default configuration: the run
 * directory the golden tests use and the placeholder VM `qemu-args` shows.
 * Backend- and boot-specific parts are spelled out in each test.
 */
export const RUN = '/run/cm-golden';
export const VM = '00000000-0000-0000-0000-000000000000';

/** Accelerator, machine, cpu, smp, memory. */
export const head = ['qemu-system-x86_64', '-enable-kvm', '-machine', 'q35', '-cpu', 'EPYC', '-smp', '4,maxcpus=64', '-m', '2048M,slots=5,maxmem=30G'];
/** The plain backend's OVMF code and per-VM vars. */
export const pflash = [
  '-drive',
  'if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE.fd,readonly=on',
  '-drive',
  `if=pflash,format=raw,unit=1,file=${RUN}/${VM}/OVMF_VARS.fd`,
];
/** User networking with the first port of the range forwarded to the agent. */
export const network = [
  '-netdev',
  `user,id=vmnic-${VM},hostfwd=tcp::6100-:7002`,
  '-device',
  `virtio-net-pci,disable-legacy=on,iommu_platform=true,netdev=vmnic-${VM},addr=0x2,romfile=`,
];
/** RAM boot. */
export const boot = ['-kernel', 'img/bzImage', '-append', 'quiet console=null', '-initrd', 'img/rootfs.cpio.gz'];
/** Display, monitor, the two 9p shares, and our supervision additions. */
export const tail = [
  '-nographic',
  '-monitor',
  'pty',
  '-fsdev',
  `local,id=cert_fs,path=${RUN}/${VM}/certs,security_model=mapped,readonly=on`,
  '-device',
  'virtio-9p-pci,fsdev=cert_fs,mount_tag=certs_share',
  '-fsdev',
  `local,id=env_fs,path=${RUN}/${VM}/env,security_model=mapped,readonly=on`,
  '-device',
  'virtio-9p-pci,fsdev=env_fs,mount_tag=env_share',
  '-name',
  `cvm-${VM}`,
  '-qmp',
  `unix:${RUN}/${VM}/qmp.sock,server=on,wait=off`,
  '-no-reboot',
];
