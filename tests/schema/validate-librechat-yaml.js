// Validate a librechat.yaml with LibreChat's own zod schema (librechat-data-provider).
// Usage: node validate-librechat-yaml.js FILE  -> prints JSON {ok, configVersion, issues, dropped}
// Strict at the top level, as LibreChat loads its config; zod drops unknown keys
// deeper down without a word, so every key of the file must also survive parsing
// (`dropped` names those that did not: a setting LibreChat would never see).
const fs = require('fs');
const yaml = require('js-yaml');
const { configSchema, Constants } = require('librechat-data-provider');

function droppedKeys(given, kept, path = []) {
  if (Array.isArray(given)) {
    return given.flatMap((item, i) => droppedKeys(item, Array.isArray(kept) ? kept[i] : undefined, [...path, i]));
  }
  if (given === null || typeof given !== 'object') return [];
  return Object.keys(given).flatMap((key) =>
    kept !== null && typeof kept === 'object' && key in kept
      ? droppedKeys(given[key], kept[key], [...path, key])
      : [[...path, key].join('.')],
  );
}

const config = yaml.load(fs.readFileSync(process.argv[2], 'utf8'));
const parsed = configSchema.strict().safeParse(config);
const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
const dropped = parsed.success ? droppedKeys(config, parsed.data) : [];
const ok = parsed.success && dropped.length === 0;
console.log(JSON.stringify({ ok, configVersion: Constants.CONFIG_VERSION, issues, dropped }));
process.exit(ok ? 0 : 1);
