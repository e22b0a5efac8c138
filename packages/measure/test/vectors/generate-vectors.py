#!/usr/bin/env python3
# Regenerates sev-snp-measure.json: runs virtee/sev-snp-measure (a checkout
# outside this repository; none of its code is committed here) on Debian 12's
# OVMF.fd and on the test firmware of @cocos-manager/testing, and records each
# exact command line with its output.
#
#   python3 generate-vectors.py <sev-snp-measure checkout> <dir with
#       sev-test-firmware.fd, kernel.bin, initrd.bin> > sev-snp-measure.json
#
# The test firmware and boot files are what buildSevTestFirmware() and
# testBootFile() write (packages/testing/src/sev-test-firmware.ts).
import hashlib, json, subprocess, sys

tool, files = sys.argv[1], sys.argv[2]
paths = {
    'debian-ovmf': '/usr/share/ovmf/OVMF.fd',
    'sev-test-firmware': f'{files}/sev-test-firmware.fd',
    'kernel': f'{files}/kernel.bin',
    'initrd': f'{files}/initrd.bin',
}
sha256 = lambda p: hashlib.sha256(open(p, 'rb').read()).hexdigest()
git = lambda *a: subprocess.run(['git', '-C', tool, *a], capture_output=True, text=True).stdout.strip()
deb = subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'ovmf'], capture_output=True, text=True).stdout

D, T = '{debian-ovmf}', '{sev-test-firmware}'
KERNEL = ['--kernel', '{kernel}', '--initrd', '{initrd}', '--append', 'console=ttyS0 quiet']
cases = [
    ('snp, 1 vCPU EPYC-v4', ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', D]),
    ('snp, 2 vCPUs EPYC-v4', ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', D]),
    ('snp, 4 vCPUs EPYC-v4', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--ovmf', D]),
    ('snp, 4 vCPUs EPYC-v4, features 0x21', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x21', '--ovmf', D]),
    ('snp, 2 vCPUs EPYC', ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC', '--ovmf', D]),
    ('snp, 16 vCPUs EPYC-Rome', ['--mode', 'snp', '--vcpus', '16', '--vcpu-type', 'EPYC-Rome', '--ovmf', D]),
    ('snp, 8 vCPUs EPYC-Milan', ['--mode', 'snp', '--vcpus', '8', '--vcpu-type', 'EPYC-Milan', '--ovmf', D]),
    ('snp, 4 vCPUs EPYC-Milan-v2, features 0x21', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-Milan-v2', '--guest-features', '0x21', '--ovmf', D]),
    ('snp, 2 vCPUs EPYC-Milan, features 0x21', ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-Milan', '--guest-features', '0x21', '--ovmf', D]),
    ('snp, 1 vCPU EPYC-Genoa, features 0x21', ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-Genoa', '--guest-features', '0x21', '--ovmf', D]),
    ('snp, 4 vCPUs EPYC-Turin, features 0x21', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-Turin', '--guest-features', '0x21', '--ovmf', D]),
    ('snp, 64 vCPUs EPYC-v4', ['--mode', 'snp', '--vcpus', '64', '--vcpu-type', 'EPYC-v4', '--ovmf', D]),
    ('snp, 3 vCPUs by signature 0xa00f11', ['--mode', 'snp', '--vcpus', '3', '--vcpu-sig', '0xa00f11', '--ovmf', D]),
    ('snp, 2 vCPUs by family 25 model 17 stepping 1', ['--mode', 'snp', '--vcpus', '2', '--vcpu-family', '25', '--vcpu-model', '17', '--vcpu-stepping', '1', '--ovmf', D]),
    ('snp, 2 vCPUs EPYC-v4, features 0x0', ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x0', '--ovmf', D]),
    ('snp, 2 vCPUs, VMM type ec2', ['--mode', 'snp', '--vcpus', '2', '--vmm-type', 'ec2', '--ovmf', D]),
    ('snp, 2 vCPUs, VMM type gce', ['--mode', 'snp', '--vcpus', '2', '--vmm-type', 'gce', '--ovmf', D]),
    ('snp, 4 vCPUs EPYC-v4, base64 output', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--output-format', 'base64', '--ovmf', D]),
    ('seves, 1 vCPU EPYC-v4', ['--mode', 'seves', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', D]),
    ('seves, 4 vCPUs EPYC-Milan', ['--mode', 'seves', '--vcpus', '4', '--vcpu-type', 'EPYC-Milan', '--ovmf', D]),
    ('seves, 2 vCPUs by family 23 model 49 stepping 0', ['--mode', 'seves', '--vcpus', '2', '--vcpu-family', '23', '--vcpu-model', '49', '--vcpu-stepping', '0', '--ovmf', D]),
    ('sev', ['--mode', 'sev', '--ovmf', D]),
    ('snp kernel hashes, 2 vCPUs EPYC-v4, kernel+initrd+cmdline', ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', T, *KERNEL]),
    ('snp kernel hashes, 1 vCPU EPYC-Milan, kernel only', ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-Milan', '--ovmf', T, '--kernel', '{kernel}']),
    ('snp test firmware, 4 vCPUs EPYC-v4, no kernel', ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--ovmf', T]),
    ('seves kernel hashes, 2 vCPUs EPYC-v4', ['--mode', 'seves', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', T, *KERNEL]),
    ('sev kernel hashes', ['--mode', 'sev', '--ovmf', T, *KERNEL]),
]
errors = [
    ('snp, kernel given but Debian OVMF has no KERNEL_HASHES section', ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', D, '--kernel', '{kernel}']),
]

def real(args):
    out = []
    for a in args:
        for k, v in paths.items():
            a = a.replace('{' + k + '}', v)
        out.append(a)
    return out

def run(args):
    argv = ['python3', 'sev-snp-measure.py', *real(args)]
    r = subprocess.run(argv, cwd=tool, capture_output=True, text=True)
    return argv, r

vectors = []
for name, args in cases:
    argv, r = run(args)
    assert r.returncode == 0, (name, r.stderr)
    vectors.append({'name': name, 'args': args, 'command': ' '.join(argv), 'output': r.stdout.strip()})
failures = []
for name, args in errors:
    argv, r = run(args)
    failures.append({'name': name, 'args': args, 'command': ' '.join(argv), 'exitCode': r.returncode, 'stderr': r.stderr.strip()})

# The kernel-hashes table bytes, from sev-snp-measure's own SevHashes (sev_hashes.py).
sys.path.insert(0, tool)
from sevsnpmeasure.sev_hashes import SevHashes
tables = {
    'kernel+initrd+cmdline': SevHashes(paths['kernel'], paths['initrd'], 'console=ttyS0 quiet').construct_table().hex(),
    'kernel only': SevHashes(paths['kernel'], None, None).construct_table().hex(),
}

# The digest igvmmeasure's default zero-page rule gives an IGVM file made from
# the same OVMF (its SEC_MEM pages as PAGE_DATA without file data): the same
# computation with each zero page measured as a normal page of zeros.
from sevsnpmeasure import guest, vcpu_types
from sevsnpmeasure.gctx import GCTX
from sevsnpmeasure.vmm_types import VMMType
native_zero_pages = GCTX.update_zero_pages
GCTX.update_zero_pages = lambda self, gpa, length: self.update_normal_pages(gpa, bytes(length))
igvm_default_rule = []
for vcpus, vcpu_type, features in [(1, 'EPYC-v4', 0x1), (4, 'EPYC-v4', 0x1), (2, 'EPYC-Milan', 0x21)]:
    ld = guest.snp_calc_launch_digest(vcpus, vcpu_types.CPU_SIGS[vcpu_type], paths['debian-ovmf'], None, None, None, features, '', VMMType.QEMU)
    igvm_default_rule.append({'vcpus': vcpus, 'vcpuType': vcpu_type, 'guestFeatures': hex(features), 'firmware': 'debian-ovmf', 'output': ld.hex()})
GCTX.update_zero_pages = native_zero_pages

# The VMSA pages sev-snp-measure measures (--dump-vmsa), for the IGVM files the
# tests write from OVMF.fd: as (offset, hex) runs of the non-zero bytes.
import os, tempfile
def runs(page):
    out, i = [], 0
    while i < len(page):
        if page[i] == 0:
            i += 1
            continue
        j = i
        while j < len(page) and any(page[j:j + 8]):
            j += 1
        out.append([i, page[i:j].hex()])
        i = j
    return out
vmsas = []
for vcpu_type, features in [('EPYC-v4', '0x1'), ('EPYC-Milan', '0x21')]:
    args = ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', vcpu_type, '--guest-features', features, '--ovmf', D, '--dump-vmsa']
    with tempfile.TemporaryDirectory() as out:
        argv = ['python3', f'{tool}/sev-snp-measure.py', *real(args)]
        subprocess.run(argv, cwd=out, check=True, capture_output=True)
        pages = [open(os.path.join(out, f'vmsa{i}.bin'), 'rb').read() for i in range(2)]
    vmsas.append({'vcpuType': vcpu_type, 'guestFeatures': features, 'firmware': 'debian-ovmf', 'command': ' '.join(argv),
                  'bsp': runs(pages[0]), 'ap': runs(pages[1])})

json.dump({
    'tool': {'name': 'sev-snp-measure', 'repository': 'https://github.com/virtee/sev-snp-measure',
             'commit': git('rev-parse', 'HEAD'), 'version': git('describe', '--tags', '--always'),
             'python': sys.version.split()[0]},
    'firmware': {
        'debian-ovmf': {'path': paths['debian-ovmf'], 'debianPackage': 'ovmf', 'debianVersion': deb, 'sha256': sha256(paths['debian-ovmf'])},
        'sev-test-firmware': {'generator': '@cocos-manager/testing buildSevTestFirmware()', 'sha256': sha256(paths['sev-test-firmware'])},
    },
    'bootFiles': {
        'kernel': {'generator': "@cocos-manager/testing testBootFile('kernel', 200000)", 'sha256': sha256(paths['kernel'])},
        'initrd': {'generator': "@cocos-manager/testing testBootFile('initrd', 70001)", 'sha256': sha256(paths['initrd'])},
    },
    'vectors': vectors,
    'errors': failures,
    'kernelHashesTables': tables,
    'vmsas': vmsas,
    'igvmDefaultZeroRule': {
        'method': 'sevsnpmeasure.guest.snp_calc_launch_digest with GCTX.update_zero_pages replaced by update_normal_pages of zero bytes (igvmmeasure measures a PAGE_DATA without file data as a normal page of zeros unless --native-zero)',
        'vectors': igvm_default_rule,
    },
}, sys.stdout, indent=2)
print()
