// Validate a librechat.yaml with LibreChat's own zod schema (librechat-data-provider).
// Usage: node validate-librechat-yaml.js FILE  -> prints JSON {ok, configVersion, issues}
const fs = require('fs');
const yaml = require('js-yaml');
const { configSchema, Constants } = require('librechat-data-provider');

const parsed = configSchema.safeParse(yaml.load(fs.readFileSync(process.argv[2], 'utf8')));
const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
console.log(JSON.stringify({ ok: parsed.success, configVersion: Constants.CONFIG_VERSION, issues }));
process.exit(parsed.success ? 0 : 1);
