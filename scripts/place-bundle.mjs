// ncc writes build/<entry>/index.js; the Action and the CLI ship as dist/<entry>.js.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
for (const entry of readdirSync('build', { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === 'tsc') continue;
  const files = readdirSync(`build/${entry.name}`).filter((f) => f !== 'index.js' && f !== 'package.json');
  if (files.length > 0) throw new Error(`ncc emitted extra files for ${entry.name}: ${files.join(', ')}`);
  copyFileSync(`build/${entry.name}/index.js`, `dist/${entry.name}.js`);
}
