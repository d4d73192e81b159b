import type { SipIdentity } from '../../authenticode/sip-info.js';

/**
 * How Windows reads a file without a byte order mark. `powershell`: UTF-8 when its first 32 bytes show
 * UTF-8, else the machine's ANSI code page (the PowerShell SIP's test, as jborean93/PowerShell-
 * OpenAuthenticode `GetScriptEncoding` describes it; PowerShell/PowerShell#3466).
 */
export type BomlessEncoding = 'powershell' | 'utf-8' | 'windows-1252';

/** The facts of one kind of script: its signature block, its SIP and how Windows reads its text. */
export interface ScriptKind {
  /** The name users see ("PowerShell script"), also the name of the SignableFile's format. */
  readonly name: string;
  /** Lower-case extensions with the dot. */
  readonly extensions: readonly string[];
  readonly begin: string;
  readonly end: string;
  /** Each base64 line is `linePrefix + up to 64 characters + lineSuffix`. */
  readonly linePrefix: string;
  readonly lineSuffix: string;
  readonly sip: SipIdentity;
  /** PowerShell hashes a BOM as U+FEFF; Windows Script Host leaves it out (jsign `isByteOrderMarkSigned`). */
  readonly bomSigned: boolean;
  /** PowerShell's test for all its files; .wsf as UTF-8, .js and .vbs as Windows-1252 (jsign #123). */
  readonly bomless: BomlessEncoding;
  /** Windows Script Host hashes the block's position (jsign `WSHScript.computeDigest`). */
  readonly hashesPosition: boolean;
  /** Where the block goes: at the end, or right before the last `</job>` of a .wsf. */
  readonly insertBefore?: string;
}

const uuid = (hex: string): Buffer => Buffer.from(hex.replaceAll('-', ''), 'hex');

/** Version 65536 and the GUID bytes as stored: jsign `PowerShellScript`, osslsigncode `script.c`. */
const POWERSHELL_SIP: SipIdentity = { version: 65536, uuid: uuid('1FCC3B60-594B-084E-B724-D2C6297EF351') };

/**
 * jsign's GUIDs for Windows Script Host (`JScript`, `VBScript`, `WindowsScript`), not osslsigncode's,
 * which signs .js with PowerShell's and Windows rejects (mtrojnar/osslsigncode #472).
 */
export const SCRIPT_KINDS: readonly ScriptKind[] = [
  {
    name: 'PowerShell script',
    extensions: ['.ps1', '.psm1', '.psd1'],
    begin: '# SIG # Begin signature block',
    end: '# SIG # End signature block',
    linePrefix: '# ',
    lineSuffix: '',
    sip: POWERSHELL_SIP,
    bomSigned: true,
    bomless: 'powershell',
    hashesPosition: false,
  },
  {
    // jsign signs only .ps1xml; OpenAuthenticode and osslsigncode treat .psc1 and .cdxml alike.
    name: 'PowerShell XML file',
    extensions: ['.ps1xml', '.psc1', '.cdxml'],
    begin: '<!-- SIG # Begin signature block -->',
    end: '<!-- SIG # End signature block -->',
    linePrefix: '<!-- ',
    lineSuffix: ' -->',
    sip: POWERSHELL_SIP,
    bomSigned: true,
    bomless: 'powershell',
    hashesPosition: false,
  },
  {
    name: 'JScript file',
    extensions: ['.js', '.jse'],
    begin: '// SIG // Begin signature block',
    end: '// SIG // End signature block',
    linePrefix: '// SIG // ',
    lineSuffix: '',
    sip: { version: 1, uuid: uuid('10E0C906-CE38-D411-A2A3-00104BD35090') },
    bomSigned: false,
    bomless: 'windows-1252',
    hashesPosition: true,
  },
  {
    name: 'VBScript file',
    extensions: ['.vbs', '.vbe'],
    begin: "'' SIG '' Begin signature block",
    end: "'' SIG '' End signature block",
    linePrefix: "'' SIG '' ",
    lineSuffix: '',
    sip: { version: 1, uuid: uuid('4EF02916-9927-B54D-8FE5-ACE10F17EBAB') },
    bomSigned: false,
    bomless: 'windows-1252',
    hashesPosition: true,
  },
  {
    name: 'Windows Script File',
    extensions: ['.wsf'],
    begin: '<signature>',
    end: '</signature>',
    linePrefix: '** SIG ** ',
    lineSuffix: '',
    sip: { version: 1, uuid: uuid('7005611A-CE38-D411-A2A3-00104BD35090') },
    bomSigned: false,
    bomless: 'utf-8',
    hashesPosition: true,
    insertBefore: '</job>',
  },
];

/** The kind of script `name` (a base name) is, by its extension in any letter case. */
export function scriptKindOf(name: string): ScriptKind | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const extension = name.slice(dot).toLowerCase();
  return SCRIPT_KINDS.find((kind) => kind.extensions.includes(extension));
}
