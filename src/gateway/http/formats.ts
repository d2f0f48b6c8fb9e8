/**
 * String formats the HTTP schemas use. TypeBox refuses any format it does not know, so each
 * one used in a schema is registered here (imported once by route.ts).
 */
import { FormatRegistry } from '@sinclair/typebox';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)),
  uuid: (value) => UUID.test(value),
  email: (value) => value.length <= 254 && EMAIL.test(value),
  uri: (value) => {
    try {
      return new URL(value).protocol.length > 1;
    } catch {
      return false;
    }
  },
};

for (const [name, check] of Object.entries(FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
