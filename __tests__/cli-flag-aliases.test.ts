import { describe, expect, it } from '@jest/globals';
import { AZURE_SIGN_TOOL_FLAGS, rewriteAzureSignToolFlags } from '../src/cli/azure-sign-tool-flags.js';
import { INPUTS } from '../src/config/inputs.js';

describe('AzureSignTool flags', () => {
  it.each(Object.entries(AZURE_SIGN_TOOL_FLAGS))('%s becomes --%s, an input vaultsign has', (flag, name) => {
    expect(Object.keys(INPUTS)).toContain(name);
    expect(rewriteAzureSignToolFlags([flag, 'v', 'a.exe'])).toEqual({
      args: [`--${name}`, 'v', 'a.exe'],
      notices: [
        expect.stringMatching(new RegExp(`^notice: ${flag} \\(AzureSignTool\\) is --${name} in vaultsign`)),
      ],
    });
  });

  it('keeps an =value, notes a repeated flag once, and leaves everything after -- alone', () => {
    expect(rewriteAzureSignToolFlags(['-tr=none', '-d', 'x', '-d', 'y', '--', '-s', '-kvu'])).toEqual({
      args: ['--timestamp-rfc3161=none', '--description', 'x', '--description', 'y', '--', '-s', '-kvu'],
      notices: [
        'notice: -tr (AzureSignTool) is --timestamp-rfc3161 in vaultsign',
        'notice: -d (AzureSignTool) is --description in vaultsign',
      ],
    });
  });
});
