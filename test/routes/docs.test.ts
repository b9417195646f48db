import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../helpers.js';

describe('OpenAPI docs', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  it('serves an OpenAPI 3.1 document describing every endpoint', async () => {
    const response = await t.app.inject('/docs/json');
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/health/live',
      '/health/ready',
      '/messages',
      '/metrics',
      '/stats',
      '/webhook',
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
    const names = doc.paths['/messages'].get.parameters.map(
      (p: { name: string; required: boolean }) => [p.name, p.required],
    );
    assert.deepEqual(names, [
      ['limit', false],
      ['offset', false],
      ['from', false],
      ['since', false],
      ['q', false],
    ]);
  });

  it('serves the UI at /docs', async () => {
    const response = await t.app.inject('/docs');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
  });
});
