import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { openSignable } from '../src/formats/open-file.js';
import { calculatedDigests, osslSign, osslVerify } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer } from '../test/tsa-server.js';
import {
  ENCODINGS,
  EXTENSIONS,
  LINE_ENDINGS,
  POWERSHELL,
  POWERSHELL_XML,
  WSH,
  encodeText,
  expectedDigest,
  markersOf,
  readScriptSignature,
  scriptText,
  writeScriptMatrix,
  type ScriptFixture,
} from '../test/script-fixtures.js';
import { random } from '../test/seeded-random.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await ensureTestPki();
});

const noTimestamp = ['--timestamp-rfc3161', 'none'];
const sign = (...args: string[]) => runCli(['sign', ...keyFlags(pki), ...noTimestamp, ...args]);
const verify = (...files: string[]) => runCli(['verify', '--ca-file', pki.rootCa, ...files]);
const hex = (bytes: Buffer) => bytes.toString('hex');

describe('script digests', () => {
  it('equal the test’s own computation (jsign’s algorithm, Windows’ decoding) for every unsigned fixture and digest algorithm', async () => {
    const fixtures = await writeScriptMatrix(await scratchDir('script-digest'));
    for (const f of fixtures) {
      const opened = await openSignable(f.path);
      try {
        for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
          const ours = await opened.file.indirectData(hash);
          expect({ file: f.path, hash, digest: hex(ours.digest) }).toEqual({
            file: f.path,
            hash,
            digest: hex(expectedDigest(f.bytes, f.extension, hash)),
          });
        }
      } finally {
        await opened.close();
      }
    }
  });
});

describe('scripts: every extension × encoding × line ending', () => {
  let fixtures: ScriptFixture[];
  beforeAll(async () => {
    fixtures = await writeScriptMatrix(await scratchDir('script-matrix'));
    const run = await sign(...fixtures.map((f) => f.path));
    expect(run.stderr.split('\n').filter((l) => l.startsWith('failed'))).toEqual([]);
    expect(run.stdout).toContain(`${fixtures.length} signed, 0 skipped, 0 failed`);
  }, 120_000);

  it('keeps every byte outside the one block, and signs what Windows hashes with the SIP jsign uses', async () => {
    expect(fixtures).toHaveLength(EXTENSIONS.length * ENCODINGS.length * LINE_ENDINGS.length);
    for (const f of fixtures) {
      const signed = readScriptSignature(await readFile(f.path), f.extension);
      const { sip, version } = markersOf(f.extension);
      expect({
        file: f.path,
        outside: hex(signed.withoutBlock),
        blocks: signed.blockCount,
        digest: hex(signed.digest),
        sip: `${version} ${signed.sipGuid}`,
      }).toEqual({
        file: f.path,
        outside: hex(f.bytes),
        blocks: 1,
        digest: hex(expectedDigest(f.bytes, f.extension)),
        sip: `${signed.sipVersion} ${sip}`,
      });
    }
  });

  it('writes the block in the file’s encoding: at the end, or right before a .wsf’s last </job>', async () => {
    for (const f of fixtures) {
      const bytes = await readFile(f.path);
      const { end } = markersOf(f.extension);
      const tail = f.extension === '.wsf' ? `${end}\r\n</job>` : `${end}\r\n`;
      const expected = encodeText(tail, f.encoding === 'utf16le-bom' ? 'utf16le-bom' : 'utf8').subarray(
        f.encoding === 'utf16le-bom' ? 2 : 0,
      );
      const at = bytes.lastIndexOf(expected);
      expect({ file: f.path, found: at > 0 }).toEqual({ file: f.path, found: true });
      if (f.extension !== '.wsf') expect(at + expected.length).toBe(bytes.length);
    }
  });

  it('PowerShell files pass osslsigncode verify, which calculates the digest we signed', async () => {
    const powershell = fixtures.filter((f) => !WSH.includes(f.extension));
    expect(powershell).toHaveLength(6 * ENCODINGS.length * LINE_ENDINGS.length);
    for (const f of powershell) {
      const verdict = await osslVerify(f.path, pki.rootCa);
      const signed = readScriptSignature(await readFile(f.path), f.extension);
      expect({ file: f.path, ok: verdict.ok, calculated: calculatedDigests(verdict.output) }).toEqual({
        file: f.path,
        ok: true,
        calculated: [hex(signed.digest)],
      });
    }
  }, 120_000);

  it('vaultsign verify accepts every one', async () => {
    const run = await verify(...fixtures.map((f) => f.path));
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`${fixtures.length} valid, 0 failed`);
  }, 60_000);
});

describe('scripts signed by others, and signed again', () => {
  it('accepts PowerShell files signed by osslsigncode, and replaces their block when signing again', async () => {
    const dir = await scratchDir('script-ossl');
    const originals = await writeScriptMatrix(dir, [...POWERSHELL, ...POWERSHELL_XML]);
    const signed: ScriptFixture[] = [];
    for (const [i, f] of originals.entries()) {
      const out = join(dir, `ossl-${i}${f.extension}`);
      const leaf = i % 2 ? pki.leaves.ec : pki.leaves.rsa;
      await osslSign(f.path, out, { cert: leaf.chain, key: leaf.key });
      signed.push({ ...f, path: out });
    }
    const checked = await verify(...signed.map((f) => f.path));
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toContain(`${signed.length} valid, 0 failed`);

    const again = await sign(...signed.map((f) => f.path));
    expect(again.stdout).toContain(`${signed.length} signed, 0 skipped, 0 failed`);
    expect(again.stdout).toContain('signature replaced');
    for (const f of signed) {
      const parts = readScriptSignature(await readFile(f.path), f.extension);
      expect({ file: f.path, outside: hex(parts.withoutBlock), blocks: parts.blockCount }).toEqual({
        file: f.path,
        outside: hex(f.bytes),
        blocks: 1,
      });
      expect((await osslVerify(f.path, pki.rootCa)).ok).toBe(true);
    }
  }, 120_000);

  it('replaces its own block, nests with --append-signature, and leaves a signed file alone with --skip-signed', async () => {
    const dir = await scratchDir('script-resign');
    const files = await Promise.all(
      ['.ps1', '.ps1xml', '.js', '.vbs', '.wsf'].map(async (extension, i) => {
        const path = join(dir, `again${extension}`);
        const bytes = encodeText(scriptText(extension, LINE_ENDINGS[i % 4]), ENCODINGS[i % 3]);
        await writeFile(path, bytes);
        return { path, extension, bytes };
      }),
    );
    const paths = files.map((f) => f.path);
    expect((await sign(...paths)).code).toBe(0);
    const first = await Promise.all(paths.map((p) => readFile(p)));

    const replaced = await runCli(['sign', ...keyFlags(pki, 'ec'), ...noTimestamp, ...paths]);
    expect(replaced.stdout).toContain(`${paths.length} signed, 0 skipped, 0 failed`);
    for (const [i, f] of files.entries()) {
      const now = await readFile(f.path);
      const parts = readScriptSignature(now, f.extension);
      expect(now.equals(first[i])).toBe(false);
      expect({ blocks: parts.blockCount, outside: hex(parts.withoutBlock) }).toEqual({
        blocks: 1,
        outside: hex(f.bytes),
      });
    }

    const nested = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--append-signature', ...paths]);
    expect(nested.stdout).toContain('appended as a nested signature');
    expect(nested.stdout).toContain(`${paths.length} signed, 0 skipped, 0 failed`);
    const checked = await verify(...paths);
    expect(checked.stdout).toContain(`${paths.length} valid, 0 failed`);
    expect(checked.stdout.match(/nested/g)?.length).toBe(paths.length);
    for (const f of files) {
      const parts = readScriptSignature(await readFile(f.path), f.extension);
      expect({ blocks: parts.blockCount, outside: hex(parts.withoutBlock) }).toEqual({
        blocks: 1,
        outside: hex(f.bytes),
      });
    }
    const ossl = await osslVerify(files[0].path, pki.rootCa);
    expect({ ok: ossl.ok, verified: ossl.verified }).toEqual({ ok: true, verified: 2 });

    const before = await Promise.all(paths.map((p) => readFile(p)));
    const skipped = await sign('--skip-signed', ...paths);
    expect(skipped.stdout).toContain(`0 signed, ${paths.length} skipped, 0 failed`);
    for (const [i, p] of paths.entries()) expect((await readFile(p)).equals(before[i])).toBe(true);
  }, 120_000);

  it('signs again a signed file whose line endings git turned into LF: one block, the LF text kept', async () => {
    const dir = await scratchDir('script-lf');
    const path = join(dir, 'checked-out.ps1');
    await writeFile(path, encodeText(scriptText('.ps1', 'crlf'), 'utf8-bom'));
    expect((await sign(path)).code).toBe(0);
    const lf = Buffer.from((await readFile(path)).toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
    await writeFile(path, lf);
    const stale = await verify(path);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/file digest does not match/);

    expect((await sign(path)).stdout).toContain('signature replaced');
    const parts = readScriptSignature(await readFile(path), '.ps1');
    const text = encodeText(scriptText('.ps1', 'lf'), 'utf8-bom');
    // The old block's leading line break, now an LF, went with it (jsign's removal pattern allows either).
    expect({ blocks: parts.blockCount, outside: hex(parts.withoutBlock) }).toEqual({
      blocks: 1,
      outside: hex(text),
    });
    expect(hex(parts.digest)).toBe(hex(expectedDigest(text, '.ps1')));
    expect((await osslVerify(path, pki.rootCa)).ok).toBe(true);
  });

  it('reports a JScript block made for PowerShell’s SIP (as osslsigncode makes them) as for another SIP', async () => {
    const dir = await scratchDir('script-wrong-sip');
    const text = encodeText(scriptText('.js', 'crlf'), 'utf8');
    await writeFile(join(dir, 'as.ps1'), text);
    await osslSign(join(dir, 'as.ps1'), join(dir, 'signed.ps1'), {
      cert: pki.leaves.rsa.chain,
      key: pki.leaves.rsa.key,
    });
    const { der } = readScriptSignature(await readFile(join(dir, 'signed.ps1')), '.ps1');
    const { begin, end, prefix } = markersOf('.js');
    const lines = der
      .toString('base64')
      .match(/.{1,64}/g)!
      .map((l) => prefix + l);
    const path = join(dir, 'wrong-sip.js');
    await writeFile(path, Buffer.concat([text, Buffer.from(['', begin, ...lines, end, ''].join('\r\n'))]));
    const run = await verify(path);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(
      "the signature is for another SIP than a JScript file's (version 65536, GUID 1fcc3b60594b084eb724d2c6297ef351)",
    );
  });

  it('timestamps, and changes nothing in a dry run', async () => {
    const dir = await scratchDir('script-tsa');
    const path = join(dir, 'stamped.vbs');
    const bytes = encodeText(scriptText('.vbs', 'mixed'), 'utf16le-bom');
    await writeFile(path, bytes);
    const dry = await runCli(['sign', ...keyFlags(pki), '--dry-run', path]);
    expect(dry.stdout).toMatch(/would-sign \S+stamped\.vbs: would be signed: new signature/);
    expect((await readFile(path)).equals(bytes)).toBe(true);

    const tsa = await startTsaServer({ configFile: pki.tsaConfig });
    try {
      expect((await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', tsa.url, path])).code).toBe(0);
    } finally {
      await tsa.close();
    }
    const checked = await verify(path);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/timestamp \d{4}-\d\d-\d\dT/);
    expect(hex(readScriptSignature(await readFile(path), '.vbs').withoutBlock)).toBe(hex(bytes));
  });

  it('signs with SHA-384 and SHA-512 as osslsigncode calculates them', async () => {
    const dir = await scratchDir('script-hashes');
    for (const hash of ['sha384', 'sha512']) {
      const path = join(dir, `${hash}.ps1`);
      await writeFile(path, encodeText(scriptText('.ps1', 'mixed'), 'utf8-bom'));
      expect((await sign('--file-digest', hash, path)).code).toBe(0);
      const verdict = await osslVerify(path, pki.rootCa);
      expect(verdict.ok).toBe(true);
      expect(verdict.output).toContain(`Message digest algorithm  : ${hash.toUpperCase()}`);
    }
  }, 60_000);
});

describe('scripts refused, unchanged', () => {
  /** A signed .ps1 / .js / .wsf / UTF-16 .ps1xml, each then damaged by `damage` (on its text). */
  const cases: [string, string, (text: string) => string][] = [
    ['a padding character inside its base64', '.ps1', (t) => t.replace('\r\n# M', '\r\n# =')],
    [
      'base64 three characters short',
      '.js',
      (t) => t.replace(/(\/\/ SIG \/\/ [A-Za-z0-9+/]{61})[A-Za-z0-9+/]{3}\r\n/, '$1\r\n'),
    ],
    ['a line not in its comment syntax', '.ps1', (t) => t.replace('\r\n# M', '\r\n#M')],
    ['a CR LF before its first line and an LF after it', '.ps1', (t) => t.replace('block\r\n', 'block\n')],
    ['a missing end line', '.ps1', (t) => t.replace('# SIG # End signature block\r\n', '')],
    ['text after the end line', '.vbs', (t) => `${t}WScript.Echo "more"\r\n`],
    ['text after the first line', '.ps1xml', (t) => t.replace('block -->\r\n', 'block --> x\r\n')],
    ['a .wsf block not before the last </job>', '.wsf', (t) => `${t}<job id="b"></job>\r\n`],
  ];
  it.each(cases)(
    'a block with %s',
    async (_what, extension, damage) => {
      const dir = await scratchDir('script-broken');
      const path = join(dir, `broken${extension}`);
      const encoding = extension === '.ps1xml' ? 'utf16le-bom' : 'utf8';
      await writeFile(path, encodeText(scriptText(extension, 'crlf'), encoding));
      expect((await sign(path)).code).toBe(0);
      const signed = await readFile(path);
      const text = encoding === 'utf16le-bom' ? signed.toString('utf16le', 2) : signed.toString('latin1');
      const damaged = damage(text);
      expect(damaged).not.toBe(text);
      const bytes =
        encoding === 'utf16le-bom'
          ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(damaged, 'utf16le')])
          : Buffer.from(damaged, 'latin1');
      await writeFile(path, bytes);
      const { begin } = markersOf(extension);

      for (const args of [[], ['--append-signature'], ['--skip-signed']]) {
        const run = await sign(...args, path);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`failed  ${path}: its signature block (line `);
        expect(run.stderr).toContain(`"${begin}") is broken`);
        expect(run.stderr).toContain('remove the block');
        expect((await readFile(path)).equals(bytes)).toBe(true);
      }
      const checked = await verify(path);
      expect(checked.code).toBe(1);
      expect(checked.stderr).toContain('is broken');
    },
    60_000,
  );

  it.each([
    ['an empty script', 'empty.ps1', Buffer.alloc(0), /empty: there is no script to sign/],
    [
      'Windows-1252 text in a .ps1 without BOM',
      'latin1.ps1',
      Buffer.from('# caf\xe9\r\n', 'latin1'),
      /no byte order mark, and its first 32 bytes do not show it as UTF-8: Windows then reads it in each machine's ANSI code page/,
    ],
    [
      'UTF-8 without BOM outside the first 32 bytes of a .ps1 (PowerShell/PowerShell#3466)',
      'late.ps1',
      Buffer.from('# All ASCII for more than 32 bytes\r\nWrite-Output "café"\r\n'),
      /first 32 bytes do not show it as UTF-8/,
    ],
    [
      'UTF-8 cut by the 32nd byte of a .ps1 (jsign #123)',
      'cut.ps1',
      Buffer.from('# Comment with french accents: àéèù\r\nWrite-Output "Working?"\r\n'),
      /first 32 bytes do not show it as UTF-8/,
    ],
    [
      'UTF-8 without BOM after an XML declaration',
      'types.ps1xml',
      Buffer.from('<?xml version="1.0" encoding="utf-8"?>\r\n<Types><!-- café --></Types>\r\n'),
      /first 32 bytes do not show it as UTF-8/,
    ],
    [
      'invalid UTF-8 in a .wsf without BOM',
      'bad.wsf',
      Buffer.from('<job>\xe9</job>\r\n', 'latin1'),
      /not valid UTF-8/,
    ],
    [
      'invalid UTF-8 after a UTF-8 BOM',
      'bom.js',
      Buffer.from('\xef\xbb\xbf// \xe9\r\n', 'latin1'),
      /not valid UTF-8/,
    ],
    ['UTF-16 big-endian', 'be.ps1', Buffer.from('\xfe\xff\x00#', 'latin1'), /UTF-16 big-endian/],
    [
      'UTF-16LE with an odd length',
      'odd.vbs',
      Buffer.from('\xff\xfe\x27\x00\x20', 'latin1'),
      /odd number of bytes/,
    ],
    [
      'a script that is only a signature block',
      'block.ps1',
      Buffer.from('\r\n# SIG # Begin signature block\r\n# MIIB\r\n# SIG # End signature block\r\n'),
      /empty but for its signature block/,
    ],
    ['a .wsf without </job>', 'nojob.wsf', Buffer.from('<package></package>\r\n'), /has no <\/job>/],
  ])('%s', async (_what, name, bytes, message) => {
    const dir = await scratchDir('script-refused');
    const path = join(dir, name);
    await writeFile(path, bytes);
    const run = await sign(path);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`failed  ${path.replace(/[.]/g, '\\.')}: .*${message.source}`));
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });
});

describe('scripts too large to read whole', () => {
  it('are refused unchanged', async () => {
    const path = join(await scratchDir('script-large'), 'huge.ps1');
    await writeFile(path, '# big\r\n');
    await truncate(path, (64 << 20) + 1);
    const digest = async () =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    const before = await digest();
    const run = await sign(path);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `failed  ${path}: the PowerShell script is 67108865 bytes; vaultsign signs scripts of up to 67108864 bytes`,
    );
    expect(await digest()).toBe(before);
  });
});

describe('scripts in the Action', () => {
  it('files-folder-filter "ps1,js" signs the .ps1 and .js files and nothing else', async () => {
    const dir = join(await scratchDir('script-action'), 'out');
    await mkdir(dir);
    const names = ['a.ps1', 'B.JS', 'c.vbs', 'd.psm1', 'e.txt'];
    for (const name of names) await writeFile(join(dir, name), encodeText(scriptText('.js', 'lf'), 'utf8'));
    const before = await Promise.all(names.map((n) => readFile(join(dir, n))));
    const run = await runAction({
      'certificate-file': pki.leaves.rsa.chain,
      'private-key-file': pki.leaves.rsa.key,
      'files-folder': dir,
      'files-folder-filter': 'ps1,js',
      'timestamp-rfc3161': 'none',
    });
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe('2');
    for (const [i, name] of names.entries()) {
      const now = await readFile(join(dir, name));
      expect({ name, changed: !now.equals(before[i]) }).toEqual({ name, changed: i < 2 });
    }
    expect(readScriptSignature(await readFile(join(dir, 'B.JS')), '.js').sipGuid).toBe(markersOf('.js').sip);
    expect((await osslVerify(join(dir, 'a.ps1'), pki.rootCa)).ok).toBe(true);
    const copy = join(dir, 'copy.ps1');
    await copyFile(join(dir, 'a.ps1'), copy);
    expect((await verify(copy)).code).toBe(0);
  }, 60_000);
});

describe('scripts under mutation', () => {
  /** One change in or next to the signature block, on the file's bytes (a UTF-16LE file's as units). */
  function mutate(base: Buffer, next: () => number): { bytes: Buffer; what: string } {
    const pick = (n: number) => Math.floor(next() * n);
    const utf16 = base[0] === 0xff && base[1] === 0xfe;
    const text = utf16 ? base.toString('utf16le', 2) : base.toString('latin1');
    const from = Math.max(0, text.search(/\r?\n[^\n]*SIG # Begin/) - 3);
    const lineStarts = [...text.slice(from).matchAll(/\n/g)].map((m) => from + m.index + 1);
    const at = from + pick(text.length - from);
    const line = lineStarts[pick(lineStarts.length)];
    const lineEnd = text.indexOf('\n', line) + 1 || text.length;
    const op = pick(8);
    const changed = [
      () =>
        text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << pick(7))) + text.slice(at + 1),
      () => text.slice(0, line) + text.slice(lineEnd),
      () => text.slice(0, lineEnd) + text.slice(line, lineEnd) + text.slice(lineEnd),
      () => text.slice(0, at) + '#=A \r\n'[pick(6)] + text.slice(at),
      () => text.slice(0, lineEnd - 2) + text.slice(lineEnd - 1),
      () => text.slice(0, at),
      () => `${text}Write-Output "after"\r\n`,
      () => text.slice(0, at) + text.slice(at + 1),
    ][op]();
    const bytes = utf16
      ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(changed, 'utf16le')])
      : Buffer.from(changed, 'latin1');
    return { bytes, what: `op${op} @${op === 1 || op === 2 || op === 4 ? line : at}` };
  }

  /** Runs `work` over `items`, four at a time. */
  async function inParallel<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < items.length) {
          const i = next++;
          results[i] = await work(items[i]);
        }
      }),
    );
    return results;
  }

  it('refuses each mutant untouched or signs it so that osslsigncode verifies it; verify accepts none osslsigncode rejects', async () => {
    const dir = await scratchDir('script-fuzz');
    const bases: { name: string; bytes: Buffer }[] = [];
    for (const encoding of ['utf8-bom', 'utf16le-bom'] as const) {
      const unsigned = join(dir, `unsigned-${encoding}.ps1`);
      await writeFile(unsigned, encodeText(scriptText('.ps1', 'mixed'), encoding));
      const ours = join(dir, `base-ours-${encoding}.ps1`);
      await copyFile(unsigned, ours);
      expect((await sign(ours)).code).toBe(0);
      const theirs = join(dir, `base-ossl-${encoding}.ps1`);
      await osslSign(unsigned, theirs, { cert: pki.leaves.ec.chain, key: pki.leaves.ec.key });
      bases.push({ name: `ours-${encoding}.ps1`, bytes: await readFile(ours) });
      bases.push({ name: `ossl-${encoding}.ps1`, bytes: await readFile(theirs) });
    }
    const next = random(0x5c41_9700);
    const mutants: { path: string; bytes: Buffer; what: string }[] = [];
    for (const base of bases)
      for (let i = 0; i < 100; i++) {
        const { bytes, what } = mutate(base.bytes, next);
        const path = join(dir, `m${String(mutants.length).padStart(3, '0')}-${base.name}`);
        await writeFile(path, bytes);
        mutants.push({ path, bytes, what: `${base.name} ${what}` });
      }

    const checked = await verify(...mutants.map((m) => m.path));
    const verdicts = new Map(
      [...(checked.stdout + checked.stderr).matchAll(/^(valid|INVALID)\s+(\S+)/gm)].map((m) => [m[2], m[1]]),
    );
    const accepted = mutants.filter((m) => verdicts.get(m.path) === 'valid');
    const judged = await inParallel(accepted, (m) => osslVerify(m.path, pki.rootCa));
    expect(accepted.filter((_m, i) => !judged[i].ok).map((m) => m.what)).toEqual([]);

    const run = await sign(...mutants.map((m) => m.path));
    const outcomes = new Map(
      [...(run.stdout + run.stderr).matchAll(/^(signed|failed)\s+(\S+?): /gm)].map((m) => [m[2], m[1]]),
    );
    expect(outcomes.size).toBe(mutants.length);
    const refused = mutants.filter((m) => outcomes.get(m.path) === 'failed');
    const signed = mutants.filter((m) => outcomes.get(m.path) === 'signed');
    const changed: string[] = [];
    for (const m of refused) if (!(await readFile(m.path)).equals(m.bytes)) changed.push(m.what);
    expect(changed).toEqual([]);
    const verdictsAfter = await inParallel(signed, (m) => osslVerify(m.path, pki.rootCa));
    expect(signed.filter((_m, i) => !verdictsAfter[i].ok).map((m) => m.what)).toEqual([]);
    // Both outcomes happen: the mutants reach the strict reader and the signer.
    expect(refused.length).toBeGreaterThan(20);
    expect(signed.length).toBeGreaterThan(20);
    process.stdout.write(
      `script fuzz: ${mutants.length} mutants; verify: ${accepted.length} valid, all osslsigncode-valid; ` +
        `sign: ${signed.length} signed (all pass osslsigncode), ${refused.length} refused untouched\n`,
    );
  }, 300_000);
});
