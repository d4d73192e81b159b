/** The characters Windows Installer packs into stream names, 6 bits each (MSI's "base64"). */
const PACKED = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._';

/** A stored entry name (UTF-16LE with its terminator) as a string, as stored. */
export function storedName(name: Buffer): string {
  return name.subarray(0, name.length - 2).toString('utf16le');
}

/**
 * A stored name unpacked for messages: Windows Installer stores two name characters in one code unit
 * of 0x3800–0x47FF, one in 0x4800–0x483F, and marks table streams with 0x4840 ("!" here).
 */
export function displayName(name: Buffer): string {
  let text = '';
  for (const char of storedName(name)) {
    const code = char.charCodeAt(0);
    if (code >= 0x3800 && code < 0x4800)
      text += PACKED[(code - 0x3800) & 0x3f] + PACKED[(code - 0x3800) >> 6];
    else if (code >= 0x4800 && code < 0x4840) text += PACKED[code - 0x4800];
    else if (code === 0x4840) text += '!';
    else if (code < 0x20) text += `\\x${code.toString(16).padStart(2, '0')}`;
    else text += char;
  }
  return JSON.stringify(text);
}
