import { Ajv, type ErrorObject, type SchemaValidateFunction } from 'ajv';
import { decodeCursor } from './cursor.js';
import { isInstant } from './instant.js';

/**
 * One Ajv instance validates every route's schema (the same TypeBox schemas that type the
 * handlers and fill the OpenAPI document). Unlike Fastify's default it never coerces types
 * (a number where a string belongs is invalid), never strips unknown fields, and reports every
 * problem rather than the first.
 */
export const ajv = new Ajv({
  allErrors: true,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: true,
  verbose: true,
  strict: true,
});

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, naming a real instant (see instant.ts). */
ajv.addFormat('utc-instant', { type: 'string', validate: isInstant });

/**
 * No unpaired UTF-16 surrogates ("\ud800" is valid JSON but no Unicode text): such a string
 * cannot be stored as UTF-8 and read back unchanged.
 */
ajv.addFormat('unicode', { type: 'string', validate: (value: string) => value.isWellFormed() });

/**
 * A `cursor` this service handed out (see cursor.ts), decoded by the validator itself: the value
 * is replaced by the position it names, so the handler never decodes it again. A value that is
 * not one fails like a format would.
 */
export const CURSOR_KEYWORD = 'x-cursor';
const decodeCursorKeyword: SchemaValidateFunction = (_schema, data, _parent, context) => {
  const position = typeof data === 'string' ? decodeCursor(data) : null;
  if (position === null) {
    decodeCursorKeyword.errors = [
      { keyword: 'format', params: { format: 'cursor' }, message: 'is not a cursor' },
    ];
    return false;
  }
  if (context !== undefined) context.parentData[context.parentDataProperty] = position;
  return true;
};
ajv.addKeyword({
  keyword: CURSOR_KEYWORD,
  schemaType: 'boolean',
  modifying: true,
  errors: true,
  validate: decodeCursorKeyword,
});

/** One problem, in the shape FastAPI/Pydantic use for their 422 responses. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export type ValidationSource = 'body' | 'query';

const EXPECTED_TYPE: Record<string, [type: string, msg: string]> = {
  string: ['string_type', 'Input should be a valid string'],
  'string,null': ['string_type', 'Input should be a valid string or null'],
  integer: ['int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
  object: [
    'model_attributes_type',
    'Input should be a valid dictionary or object to extract fields from',
  ],
};

function describe(source: ValidationSource, error: ErrorObject): [type: string, msg: string] {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return ['missing', 'Field required'];
    case 'type':
      // the query parser turns a repeated parameter into an array
      if (source === 'query' && Array.isArray(error.data)) {
        return ['multiple_values', 'Parameter should be given at most once'];
      }
      return EXPECTED_TYPE[String(p.type)] ?? ['type_error', `Input should be of type ${p.type}`];
    case 'minLength':
      return [
        'string_too_short',
        `String should have at least ${p.limit} character${p.limit === 1 ? '' : 's'}`,
      ];
    case 'maxLength':
      return ['string_too_long', `String should have at most ${p.limit} characters`];
    case 'pattern':
      return ['string_pattern_mismatch', `String should match pattern '${p.pattern}'`];
    case 'format':
      if (p.format === 'unicode')
        return ['string_unicode', 'String should not contain unpaired surrogates'];
      if (p.format === 'cursor')
        return ['cursor_invalid', 'Input should be a next_cursor value returned by this endpoint'];
      return [
        'datetime_parsing',
        'Input should be a real UTC instant written YYYY-MM-DDTHH:MM:SSZ, with an optional fraction of 1 to 6 digits before the Z',
      ];
    case 'minimum':
      return ['greater_than_equal', `Input should be greater than or equal to ${p.limit}`];
    case 'maximum':
      return ['less_than_equal', `Input should be less than or equal to ${p.limit}`];
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((value) => `'${String(value)}'`);
      return ['enum', `Input should be ${allowed.join(' or ')}`];
    }
    default:
      return [error.keyword, error.message ?? 'Input is invalid'];
  }
}

/** Ajv's errors as Pydantic-style issues: one per field, `loc` naming where it was found. */
export function toIssues(
  source: ValidationSource,
  errors: readonly ErrorObject[],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const field =
      error.keyword === 'required'
        ? String((error.params as { missingProperty: string }).missingProperty)
        : error.instancePath.slice(1).split('/')[0];
    const loc = field ? [source, field] : [source];
    const key = loc.join('\0');
    if (seen.has(key)) continue;
    seen.add(key);
    const [type, msg] = describe(source, error);
    issues.push({ loc, msg, type });
  }
  return issues;
}
