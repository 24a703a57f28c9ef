import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { triggerJsonSchemaText } from '../shared/domain/trigger-json-schema';

const target = fileURLToPath(new URL('../schemas/trigger-v1.schema.json', import.meta.url));
writeFileSync(target, triggerJsonSchemaText());
console.log(`wrote ${target}`);
