// Bundled into dist/cli.js at build time, so the version is known wherever the bundle is copied.
import packageJson from '../../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
